import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from './auth-context';
import { CREDENTIAL_RESOLVER, CredentialResolver } from './credentials';

export const CREDENTIALS_STRATEGY = 'tiled-credentials';

/** The passport-custom strategy every protected route goes through; the mode's resolver does the work. */
@Injectable()
export class CredentialsStrategy extends PassportStrategy(Strategy, CREDENTIALS_STRATEGY) {
  constructor(@Inject(CREDENTIAL_RESOLVER) private readonly resolver: CredentialResolver) {
    super();
  }

  /** See CredentialResolver.requiredScopes. */
  get requiredScopes(): readonly string[] {
    return this.resolver.requiredScopes ?? [];
  }

  async validate(request: FastifyRequest): Promise<AuthContext> {
    return this.resolver.resolve(request);
  }
}
