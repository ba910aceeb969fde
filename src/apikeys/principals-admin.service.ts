import { Injectable, Logger } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { ApiKeyError, ApiKeyErrorCode } from './api-key.errors';
import { PrincipalJson, PrincipalsService } from '../principals/principals.service';

/** The admin views of principals; rendering of a principal is the principals module's (one shape everywhere). */
@Injectable()
export class PrincipalsAdminService {
  private readonly logger = new Logger('Principals');

  constructor(private readonly principals: PrincipalsService) {}

  async list(offset: number, limit: number): Promise<PrincipalJson[]> {
    return this.principals.list(offset, limit);
  }

  async createService(auth: AuthContext, role: string): Promise<PrincipalJson> {
    const principal = await this.principals.createService(role);
    this.logger.log(`${auth.principal?.uuid ?? 'anonymous'} created service principal ${principal.uuid} with role ${role}`);
    return this.principals.describe(principal.id);
  }

  /** `uuid` is normalised already (PrincipalPathDto). */
  async show(uuid: string): Promise<PrincipalJson> {
    const principal = await this.principals.findByUuid(uuid);
    if (!principal) throw new ApiKeyError(ApiKeyErrorCode.no_such_principal, `No such Principal ${uuid}`);
    return this.principals.describe(principal.id);
  }
}
