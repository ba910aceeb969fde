import { createReadStream, type ReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type { Located } from '../catalog.service';
import { catalogHandle } from './catalog-handle';
import type { AssetRow } from './catalog-store';
import { ensureReadable, pathOfUri } from './register-external';

/** Most files a manifest lists: a bound on the walk one request makes. */
export const MAX_MANIFEST_FILES = 100_000;

/** Tiled 0.2.16's raw asset routes: the files behind a catalog node, by asset id. */
@Injectable()
export class AssetsService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private async asset(located: Located, id: number): Promise<{ asset: AssetRow; path: string }> {
    if (this.config.expose_raw_assets === false) throw new TiledHttpError(403, 'This Tiled server is configured not to allow downloading raw assets.');
    const handle = catalogHandle(located.node);
    if (!handle?.row) throw new TiledHttpError(405, 'This node does not support downloading assets.');
    const sources = await handle.context.store.dataSources(handle.row.id);
    const asset = sources.flatMap((s) => s.assets).find((a) => a.id === id);
    if (!asset) throw new TiledHttpError(404, `This node exists but it does not have an Asset with id ${id}`);
    if (!asset.dataUri.startsWith('file:')) throw new TiledHttpError(400, 'Only download assets stored as file:// is currently supported.');
    // Files the server wrote live in its writable storage, which is readable storage too.
    const path = (await ensureReadable(handle.context, asset.dataUri).catch(() => null)) ?? pathOfUri(asset.dataUri);
    return { asset, path };
  }

  /** GET /asset/bytes/{path}?id=N[&relative_path=…]: the file, streamed, as an attachment. */
  async bytes(located: Located, id: number, relativePath: string | undefined): Promise<{ stream: ReadStream; size: number; filename: string }> {
    const { asset, path } = await this.asset(located, id);
    let full = path;
    if (asset.isDirectory) {
      if (relativePath === undefined) {
        throw new TiledHttpError(400, `This asset is a directory. Must specify relative path, from manifest provided by /asset/manifest/...?id=${id}`);
      }
      if (isAbsolute(relativePath)) throw new TiledHttpError(400, 'relative_path query parameter must be a *relative* path');
      const inside = normalize(relativePath);
      if (inside === '..' || inside.startsWith(`..${sep}`)) throw new TiledHttpError(400, 'relative_path query parameter must stay inside the asset directory');
      full = join(path, inside);
    } else if (relativePath !== undefined) {
      throw new TiledHttpError(400, 'This asset is not a directory. The relative_path query parameter must not be set.');
    }
    const info = await stat(full).catch(() => null);
    if (!info?.isFile()) throw new TiledHttpError(404, `The asset file ${relativePath ?? basename(full)} does not exist`);
    return { stream: createReadStream(full), size: info.size, filename: basename(full) };
  }

  /** GET /asset/manifest/{path}?id=N: the files inside a directory asset, relative to it. */
  async manifest(located: Located, id: number): Promise<{ manifest: string[] }> {
    const { asset, path } = await this.asset(located, id);
    if (!asset.isDirectory) throw new TiledHttpError(400, 'This asset is not a directory. There is no manifest.');
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => relative(path, join(e.parentPath, e.name)));
    if (files.length > MAX_MANIFEST_FILES) throw new TiledHttpError(400, `This asset holds more than ${MAX_MANIFEST_FILES} files; no manifest is served`);
    return { manifest: files.sort() };
  }
}
