// The authorization server without any framework: authenticates clients, runs the grant, signs and verifies tokens.
import type { ResolvedOptions } from '../options';
import type { Store } from '../store/types';
import { ChangeWatcher } from './changes';
import type { Client } from './client';
import { ClientAuthenticator } from './client-auth';
import { AuditEmitter } from './events';
import { buildClaims, checkClientMayUseGrant, checkGrantType, decideScopes, type TokenRequestParams, type TokenResponse } from './grant';
import { KeyRing } from './keyring';
import { ClientRegistry } from './registry';
import { SecretMemory } from './secret-memory';
import { SecretVerifier } from './secrets';
import { signAccessToken, verifyAccessToken, type VerifiedAccessToken } from './tokens';
import { SIGNING_ALGORITHMS } from './keys';

/** What a verification of this issuer's tokens may vary per guard. */
export interface LocalVerifyOptions {
  audience: readonly string[];
  acceptScp?: boolean;
}

/**
 * One authorization server: its store, keys and options. The Express adapters are thin layers over it.
 */
export class AuthorizationServer {
  readonly keys: KeyRing;
  readonly registry: ClientRegistry;
  readonly changes: ChangeWatcher;
  /** Audit events (see {@link AuditEvents}); listen to `'audit'` for all of them. */
  readonly events: AuditEmitter;
  private readonly authenticator: ClientAuthenticator;
  private issuerWarningShown = false;

  constructor(
    readonly options: ResolvedOptions,
    readonly store: Store,
  ) {
    const now = options.clock;
    this.events = new AuditEmitter(now, (err) => options.logger.error('an audit event listener failed', err));
    this.keys = new KeyRing(store, options.signingAlgorithm, now);
    this.registry = new ClientRegistry(store, { bcryptCost: options.bcryptCost, now }, this.events);
    const verifier = new SecretVerifier(options.bcryptCost, options.bcryptConcurrency);
    const memory = new SecretMemory(options.verifiedSecretCacheSize, options.verifiedSecretMaxAge * 1000, now);
    this.authenticator = new ClientAuthenticator(store, verifier, now, memory);
    this.changes = new ChangeWatcher(store, options.syncInterval, (err) =>
      options.logger.error('could not check the store for changes', err),
    );
    this.changes.subscribe(() => this.keys.invalidate());
  }

  /** RFC 6749 §4.4.2 checks that need no client: run before authentication so garbage costs no bcrypt. */
  checkTokenRequest(params: TokenRequestParams): void {
    checkGrantType(params.grant_type);
  }

  /** Authenticates a client by id and secret (RFC 6749 §2.3.1). Rejects with InvalidClientError. */
  authenticateClient(clientId: string, clientSecret: string): Promise<Client> {
    return this.authenticator.authenticate(clientId, clientSecret);
  }

  /** Looks a client up without authenticating it (to tell a public client apart). */
  findClient(clientId: string): Promise<Client | undefined> {
    return this.store.getClient(clientId);
  }

  /** Runs the client credentials grant for an authenticated client and signs the token. */
  async issueToken(client: Client, params: TokenRequestParams): Promise<TokenResponse> {
    this.warnAboutDefaultIssuer();
    checkClientMayUseGrant(client);
    const scopes = decideScopes(client, params.scope);
    const key = await this.keys.getSigner();
    const claims = buildClaims({
      issuer: this.options.issuer,
      client,
      audience: this.options.audience,
      scopes,
      nowMs: this.options.clock(),
      lifetimeSeconds: this.options.accessTokenLifetime,
    });
    const accessToken = await signAccessToken(claims, key);
    this.events.record('token.issued', {
      clientId: client.id,
      scopes,
      audience: claims.aud,
      jti: claims.jti,
      expiresAt: claims.exp * 1000,
    });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.options.accessTokenLifetime,
      scope: claims.scope,
    };
  }

  /** Verifies a token of this issuer against the in-memory key ring. Rejects with InvalidTokenError. */
  verifyAccessToken(token: string, options: LocalVerifyOptions): Promise<VerifiedAccessToken> {
    return verifyAccessToken(token, this.keys.resolve, {
      issuer: this.options.issuer,
      audience: options.audience,
      algorithms: SIGNING_ALGORITHMS,
      clockToleranceSeconds: this.options.clockTolerance,
      now: this.options.clock(),
      acceptScp: options.acceptScp ?? false,
    });
  }

  /** Stops background work and closes the store if this server opened it. */
  async close(): Promise<void> {
    this.changes.stop();
    await this.store.close();
  }

  private warnAboutDefaultIssuer(): void {
    if (this.options.issuerIsDefault && !this.issuerWarningShown) {
      this.issuerWarningShown = true;
      this.options.logger.warn(
        `no issuer configured: using the development default ${this.options.issuer}; set the issuer option (or OAUTH_ISSUER) in production`,
      );
    }
  }
}
