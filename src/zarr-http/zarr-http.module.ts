import { DynamicModule, Module } from '@nestjs/common';
import { ZarrHttpController } from './zarr-http.controller';

/** Zarr v2/v3 views of the catalog's arrays; reads the tree through the catalog module it is given. */
@Module({})
export class ZarrHttpModule {
  static forCatalog(catalog: DynamicModule): DynamicModule {
    return { module: ZarrHttpModule, imports: [catalog], controllers: [ZarrHttpController] };
  }
}
