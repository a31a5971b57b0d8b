// The authorization server without any framework: authenticates clients, runs the grant, signs and verifies tokens.
import type { ServerConfig } from './config';
import type { Store } from '../../store/types';
import { ChangeWatcher } from './changes';
import { ClientCache } from '../client-auth/client-cache';
import type { Client } from '../model/client';
import { ClientAuthenticator } from '../client-auth/authenticator';
import { ClientSecretBasic, ClientSecretPost, SecretCheck } from '../client-auth/methods';
import { PrivateKeyJwt } from '../client-auth/private-key-jwt-method';
import { AuditEmitter, type AuditRecorder } from '../model/events';
import {
  buildClaims,
  checkClientMayUseGrant,
  checkGrantType,
  decideAudience,
  decideScopes,
  type TokenRequestParams,
  type TokenResponse,
} from './grant';
import { InvalidDpopProofError, InvalidRequestError, InvalidTokenError } from '../model/errors';
import { hashReferenceToken, isReferenceToken, newReferenceToken } from './reference-tokens';
import { RevocationState } from './revocation';
import { KeyRotationSchedule } from './key-rotation';
import { inactive, introspectionResponse, type IntrospectionResponse } from './introspection';
import { KeyRing } from './keyring';
import { ClientRegistry } from '../admin/registry';
import { GroupRegistry } from '../admin/group-registry';
import { TokenAdmin } from '../admin/token-admin';
import { SecretMemory } from '../client-auth/secret-memory';
import { SecretVerifier } from '../client-auth/secrets';
import { signAccessToken, verifyAccessToken, type AccessTokenClaims, type VerifiedAccessToken } from '../tokens/jwt';
import { SIGNING_ALGORITHMS } from '../tokens/keys';
import { StoreClaims, type OneTimeClaims } from '../verification/replay-cache';
import { DpopChecker } from '../dpop/binding';
import { ClientKeySets } from '../client-auth/client-keys';
import { ClientAssertionVerifier } from '../client-auth/private-key-jwt';
import type { BoundVerification } from '../verification/token-cache';

/** What a verification of this issuer's tokens may vary per guard. */
export interface LocalVerifyOptions {
  audience: readonly string[];
  acceptScp?: boolean;
}

/**
 * One authorization server: its store, keys and options. The Express adapters are thin layers over it.
 */
export class AuthorizationServer<C extends ServerConfig = ServerConfig> {
  readonly keys: KeyRing;
  readonly registry: ClientRegistry;
  /** Operator revocation by jti and the list of a client's live reference tokens. */
  readonly tokens: TokenAdmin;
  /** Group and membership administration. */
  readonly groups: GroupRegistry;
  readonly changes: ChangeWatcher;
  /** Audit events (see {@link AuditEvents}); listen to `'audit'` for all of them. */
  readonly events: AuditEmitter;
  /** Revoked jtis and client states, in memory (see {@link RevocationState}). */
  readonly revocation: RevocationState;
  /** The one client-authentication path (methods, failure limits, bcrypt gate, remembered secrets) of every client-authenticated endpoint. */
  readonly clientAuth: ClientAuthenticator;
  /** Set when `keyRotationDays` is configured. */
  readonly rotationSchedule: KeyRotationSchedule | undefined;
  private issuerWarningShown = false;
  /** One-time claims of assertion and proof jtis, in the store so every instance sharing it refuses a replay. */
  readonly replayClaims: OneTimeClaims;
  /** DPoP proofs at the token endpoint (RFC 9449 §5). */
  readonly tokenEndpointDpop: DpopChecker;
  /** `private_key_jwt` assertions (RFC 7523 §2.2) against the clients' registered keys. */
  readonly clientAssertions: ClientAssertionVerifier;
  /** The token endpoint's absolute URL: a DPoP proof's `htu` there, and an accepted assertion `aud`. */
  readonly tokenEndpointUrl: string;
  /** The one promotion of the next key under way (see {@link promoteNextSigningKey}). */
  private promoting: Promise<{ kid: string; previousKid: string | undefined } | undefined> | undefined;
  private lastSigningPromotion = -Infinity;
  private storedBcryptCost: Promise<number> | undefined;
  private readonly keysReady: Promise<void>;

  constructor(
    readonly options: C,
    readonly store: Store,
  ) {
    const now = options.clock;
    this.tokenEndpointUrl = options.issuer.replace(/\/+$/, '') + options.tokenPath;
    this.replayClaims = new StoreClaims(store);
    this.tokenEndpointDpop = new DpopChecker({
      proofMaxAge: options.dpop.proofMaxAge,
      clockTolerance: options.clockTolerance,
      clock: now,
      claims: this.replayClaims,
      namespace: 'dpop:token',
      nonceSecrets: options.dpop.nonceSecrets,
      nonceStep: options.dpop.nonceStep,
    });
    const assertion = options.clientAssertion;
    this.clientAssertions = new ClientAssertionVerifier(
      new ClientKeySets({
        max: assertion.keySetCacheSize,
        cooldownMs: assertion.jwksCooldown,
        cacheMaxAgeMs: assertion.jwksCacheMaxAge,
        timeoutMs: assertion.jwksTimeout,
      }),
      this.replayClaims,
      {
        // RFC 7523 §3 item 3: the issuer identifier or the token endpoint URL.
        audiences: [options.issuer, this.tokenEndpointUrl],
        maxLifetimeSeconds: assertion.maxLifetime,
        clockToleranceSeconds: options.clockTolerance,
        clock: now,
      },
    );
    this.events = new AuditEmitter(now, (err) => options.logger.error('an audit event listener failed', err));
    this.keys = new KeyRing(store, options.signingAlgorithm, now, {
      encryption: options.keyEncryption,
      onError: (err) => options.logger.error('could not encrypt the stored signing keys', err),
      // A next key published by the CLI (or by an instance that stopped) is promoted by whoever signs first.
      onNextKeyDue: () => this.promoteOnSigning(),
    });
    // Load (and open) the keys at once: a missing or wrong keySecret is said at start-up, and by ready().
    this.keysReady = this.keys.prepare();
    this.keysReady.catch((err: unknown) =>
      options.logger.error(`the signing keys cannot be loaded: ${err instanceof Error ? err.message : String(err)}`, err),
    );
    this.registry = new ClientRegistry(
      store,
      { bcryptCost: () => this.bcryptCost(), clock: now, maxTokenLifetime: options.accessTokenLifetime },
      this.events,
    );
    this.tokens = new TokenAdmin(
      store,
      {
        now,
        keepRevokedJwtMs: (options.accessTokenLifetime + options.clockTolerance) * 1000,
        clockToleranceMs: options.clockTolerance * 1000,
      },
      this.events,
    );
    this.groups = new GroupRegistry(store, { clock: now }, this.events);
    // The dummy is hashed at once at the configured cost (the first unknown id must not pay for it),
    // and again at the database's cost if that differs, once it has been read.
    const verifier = new SecretVerifier(options.bcryptCost);
    const memory = new SecretMemory(options.verifiedSecretCacheSize, options.verifiedSecretMaxAge * 1000, now);
    // Else the first unknown client id would also pay for hashing the dummy, and stand out.
    verifier.warmUp().catch((err: unknown) => options.logger.error('could not prepare the dummy secret hash', err));
    this.bcryptCost().then(
      (cost) => verifier.useCost(cost),
      (err: unknown) => options.logger.error('could not read the bcrypt cost of the database', err),
    );
    const secrets = new SecretCheck(verifier, now, memory);
    this.changes = new ChangeWatcher(store, options.syncInterval, (err) =>
      options.logger.error('could not check the store for changes', err),
    );
    // A returning client's row is kept as long as its secret may be remembered; the changes end it.
    const clients = new ClientCache(store, this.changes, options.verifiedSecretCacheSize);
    this.clientAuth = new ClientAuthenticator(
      clients,
      [new ClientSecretBasic(secrets), new ClientSecretPost(secrets), new PrivateKeyJwt(this.clientAssertions)],
      secrets,
      options,
      this.events,
      now,
      (err) =>
        options.logger.error(
          "the shared failure limits (limiterStore) cannot be reached; this instance counts failures in its own memory until they can",
          err,
        ),
    );
    this.changes.subscribe((change) => {
      if (change.kind === 'keys' || change.kind === 'all') this.keys.invalidate();
    });
    this.revocation = new RevocationState(store, now, (err) =>
      options.logger.error('could not reload the revocation state; checking against the last one', err),
    );
    this.changes.subscribe((change) => this.revocation.apply(change));
    if (options.keyRotationDays !== undefined) {
      this.rotationSchedule = new KeyRotationSchedule(
        { periodMs: options.keyRotationDays * 86_400_000, publishAheadMs: options.keyPublishAhead * 1000, syncLagMs: options.syncInterval },
        {
          state: () => this.keys.rotationState(),
          publishNext: (activateAt) => this.publishNextSigningKey(activateAt, { scheduled: true }),
          promote: () => this.promoteNextSigningKey({ scheduled: true }),
        },
        now,
        (err) => options.logger.error('scheduled signing key rotation failed', err),
      );
      this.rotationSchedule.start();
    }
  }

  /**
   * The bcrypt cost of this database (issue 10.12): the store's, written from `bcryptCost` when the
   * database has none yet. The database wins over a differing explicit option, which is reported
   * once, so this server, other instances and the CLI hash at one cost and an unknown client id
   * costs what a wrong secret does.
   */
  bcryptCost(): Promise<number> {
    this.storedBcryptCost ??= this.store.bcryptCost(this.options.bcryptCost).then((stored) => {
      if (stored !== this.options.bcryptCost && this.options.bcryptCostExplicit) {
        this.options.logger.warn(
          `bcryptCost ${this.options.bcryptCost} differs from the database's ${stored}; using ${stored}, the cost its secrets and the CLI use`,
        );
      }
      return stored;
    });
    // A failed read (a locked database) is not remembered: the next secret tries again.
    this.storedBcryptCost.catch(() => (this.storedBcryptCost = undefined));
    return this.storedBcryptCost;
  }

  /**
   * Resolves once the stored signing keys are loaded and opened; rejects with a KeyEncryptionError
   * when they are encrypted and `keySecret` is missing or wrong (the server then issues nothing, and
   * never makes a new key in their place). Await it before listening to fail fast.
   */
  ready(): Promise<void> {
    return this.keysReady;
  }

  /** RFC 6749 §4.4.2 checks that need no client: run before authentication so garbage costs no bcrypt. */
  checkTokenRequest(params: TokenRequestParams): void {
    checkGrantType(params.grant_type);
  }

  /**
   * Checks a client id and secret (RFC 6749 §2.3.1) without the failure limits or the gate, at the
   * same cost for an unknown id. Rejects with InvalidClientError. Requests go through {@link clientAuth}.
   */
  authenticateClient(clientId: string, clientSecret: string): Promise<Client> {
    return this.clientAuth.verifySecret(clientId, clientSecret);
  }

  /** Looks a client up without authenticating it (to tell a public client apart). */
  findClient(clientId: string): Promise<Client | undefined> {
    return this.store.getClient(clientId);
  }

  /** Runs the client credentials grant for an authenticated client and signs the token. */
  async issueToken(client: Client, params: TokenRequestParams, binding: { dpopJkt?: string } = {}): Promise<TokenResponse> {
    this.warnAboutDefaultIssuer();
    checkClientMayUseGrant(client);
    if (client.requireDpop && binding.dpopJkt === undefined) {
      throw new InvalidDpopProofError('this client must send a DPoP proof (RFC 9449 section 5.2)');
    }
    const scopes = decideScopes(client, params.scope);
    const audience = decideAudience(client, params.resource, this.options.audience);
    // A client's own lifetime can only shorten the instance's (rotation and revocation windows rely on the maximum).
    const lifetime = Math.min(client.tokenLifetime ?? this.options.accessTokenLifetime, this.options.accessTokenLifetime);
    const claims = buildClaims({
      issuer: this.options.issuer,
      client,
      audience,
      scopes,
      nowMs: this.options.clock(),
      lifetimeSeconds: lifetime,
    });
    // RFC 9449 §6: a token issued against a proof is bound to its key.
    if (binding.dpopJkt !== undefined) claims.cnf = { jkt: binding.dpopJkt };
    const accessToken =
      this.options.tokenFormat === 'reference' || client.tokenFormat === 'reference'
        ? await this.saveReferenceToken(claims)
        : await signAccessToken(claims, await this.keys.getSigner());
    this.events.record('token.issued', {
      clientId: client.id,
      scopes,
      audience: claims.aud,
      jti: claims.jti,
      expiresAt: claims.exp * 1000,
    });
    return {
      access_token: accessToken,
      token_type: binding.dpopJkt === undefined ? 'Bearer' : 'DPoP',
      expires_in: lifetime,
      scope: claims.scope,
    };
  }

  /**
   * Verifies a token of this issuer: a JWT against the in-memory key ring, a reference token in the
   * store; then the in-memory revocation state. Rejects with InvalidTokenError.
   */
  async verifyAccessToken(token: string, options: LocalVerifyOptions): Promise<VerifiedAccessToken> {
    return this.assertNotRevoked(await this.readToken(token, options.audience, options.acceptScp ?? false));
  }

  /**
   * The revocation half of {@link verifyAccessToken}, against in-memory state. A cache of verified
   * tokens belongs in front of {@link readToken}, never in front of this: revocation must stay live.
   */
  async assertNotRevoked(verified: VerifiedAccessToken): Promise<VerifiedAccessToken> {
    const reason = await this.revocation.voidReason(verified.claims);
    if (reason) throw new InvalidTokenError(reason);
    return verified;
  }

  /**
   * {@link assertNotRevoked} without waiting, for a guard's cached token: the token when the
   * in-memory state says it is good, undefined when that takes a wait (see
   * RevocationState.knownVoidReason); throws InvalidTokenError when it is void.
   */
  notRevokedNow(verified: VerifiedAccessToken): VerifiedAccessToken | undefined {
    const reason = this.revocation.knownVoidReason(verified.claims);
    if (reason === null) return undefined;
    if (reason) throw new InvalidTokenError(reason);
    return verified;
  }

  /** RFC 7662 §2.2: what the introspection endpoint answers for `token`; `{ active: false }` for anything not good. */
  async introspect(token: string): Promise<IntrospectionResponse> {
    let verified: VerifiedAccessToken;
    try {
      verified = await this.readToken(token, undefined, false);
    } catch (err) {
      if (err instanceof InvalidTokenError) return inactive();
      throw err;
    }
    if (await this.revocation.voidReason(verified.claims)) return inactive();
    return introspectionResponse(verified.claims);
  }

  /**
   * RFC 7009 §2.1: revokes a token `client` holds. A token that is unknown, invalid or expired needs
   * no revocation (200 all the same); one issued to another client is refused. Resolves whether
   * the token was a live token of this issuer.
   */
  async revokeToken(client: Client, token: string): Promise<boolean> {
    let claims: AccessTokenClaims;
    try {
      claims = (await this.readToken(token, undefined, false)).claims;
    } catch (err) {
      if (err instanceof InvalidTokenError) return false;
      throw err;
    }
    if (claims.client_id !== client.id) {
      throw new InvalidRequestError('the token was not issued to the client revoking it (RFC 7009 §2.1)');
    }
    const expiresAt = claims.exp * 1000;
    // Kept while any verifier of this issuer would still take the token: until exp plus the clock
    // tolerance, else the token would come back for that tolerance once the entry is purged.
    const keepUntil = expiresAt + this.options.clockTolerance * 1000;
    if (await this.store.revokeToken({ jti: claims.jti, clientId: client.id, expiresAt: keepUntil }, this.options.clock())) {
      this.events.record('token.revoked', { clientId: client.id, jti: claims.jti, expiresAt });
    }
    return true;
  }

  /**
   * Makes a new signing key active. The previous public key stays in the JWKS until every token it
   * signed has expired (token lifetime plus clock tolerance), then drops out by itself.
   *
   * @example
   * await oauth.server.rotateSigningKey();
   */
  async rotateSigningKey(
    options: { scheduled?: boolean; audit?: AuditRecorder } = {},
  ): Promise<{ kid: string; previousKid: string | undefined }> {
    const previousRetireAt =
      this.options.clock() + (this.options.accessTokenLifetime + this.options.clockTolerance) * 1000;
    const { kid, previousKid, rotated } = await this.keys.rotate(previousRetireAt);
    if (rotated) {
      (options.audit ?? this.events).record('key.rotated', { kid, previousKid, previousRetireAt, scheduled: options.scheduled ?? false });
    }
    return { kid, previousKid };
  }

  /**
   * Publishes a new signing key in the JWKS that starts signing at `activateAt` (epoch ms), so resource
   * servers that cache the JWKS know it before they meet a token it signed. Every instance on the store
   * signs with it from that instant; the first to sign (or the schedule) promotes it in the store.
   * When a next key exists already, it is kept and resolved (`published: false`).
   *
   * @example
   * await oauth.server.publishNextSigningKey(Date.now() + 600_000); // signs in 10 minutes
   */
  async publishNextSigningKey(
    activateAt: number,
    options: { scheduled?: boolean } = {},
  ): Promise<{ kid: string; activateAt: number; published: boolean } | undefined> {
    await this.keys.getSigner();
    const next = await this.keys.publishNext(activateAt);
    if (next?.published) this.events.record('key.published', { kid: next.kid, activateAt: next.activateAt, scheduled: options.scheduled ?? false });
    return next;
  }

  /**
   * Makes the published next key active in the store once its `activateAt` has come. The previous
   * key's private half is deleted; its public half stays published until every token it signed has
   * expired, plus `keyPublishAhead` for JWKS caches: `accessTokenLifetime` + `clockTolerance` +
   * `keyPublishAhead` after the promotion. One call at a time; resolves undefined when nothing is due.
   */
  promoteNextSigningKey(options: { scheduled?: boolean } = {}): Promise<{ kid: string; previousKid: string | undefined } | undefined> {
    this.promoting ??= this.promoteDue(options.scheduled ?? false).finally(() => (this.promoting = undefined));
    return this.promoting;
  }

  /**
   * At most one promotion attempt per minute from the token path: a store that refuses writes (read
   * only, busy) must not be asked, and logged about, on every token request.
   */
  private promoteOnSigning(): void {
    const now = this.options.clock();
    if (now - this.lastSigningPromotion < 60_000) return;
    this.lastSigningPromotion = now;
    this.promoteNextSigningKey().catch((err: unknown) => this.options.logger.error('could not make the next signing key active', err));
  }

  private async promoteDue(scheduled: boolean): Promise<{ kid: string; previousKid: string | undefined } | undefined> {
    const { accessTokenLifetime, clockTolerance, keyPublishAhead } = this.options;
    const previousRetireAt = this.options.clock() + (accessTokenLifetime + clockTolerance + keyPublishAhead) * 1000;
    const promoted = await this.keys.promoteDue(previousRetireAt);
    if (!promoted) return undefined;
    const { kid, previousKid, rotated } = promoted;
    if (rotated) this.events.record('key.rotated', { kid, previousKid, previousRetireAt, scheduled });
    return { kid, previousKid };
  }

  /**
   * Takes a signing key out of service at once (leaked, or found in a backup that leaked): tokens it
   * signed stop verifying here now and in other processes on the same store within `syncInterval`.
   * The active key is first replaced by a new one. Resolves false for a kid not in service.
   *
   * @example
   * await oauth.server.retireSigningKey(kid);
   */
  async retireSigningKey(kid: string, audit: AuditRecorder = this.events): Promise<boolean> {
    const { found, newKid } = await this.keys.retire(kid);
    if (!found) return false;
    if (newKid !== undefined) {
      audit.record('key.rotated', { kid: newKid, previousKid: kid, previousRetireAt: this.options.clock(), scheduled: false });
    }
    audit.record('key.retired', { kid });
    return true;
  }

  /** A JWT or a reference token of this issuer, checked but for revocation; `audience` undefined skips the aud check. */
  async readToken(token: string, audience: readonly string[] | undefined, acceptScp: boolean): Promise<VerifiedAccessToken> {
    if (isReferenceToken(token)) {
      const stored = await this.store.findReferenceToken(hashReferenceToken(token), this.options.clock());
      if (!stored) throw new InvalidTokenError('the access token is invalid');
      const aud = Array.isArray(stored.claims.aud) ? stored.claims.aud : [stored.claims.aud];
      if (audience && !audience.some((a) => aud.includes(a))) {
        throw new InvalidTokenError('the access token is not meant for this audience');
      }
      return { clientId: stored.clientId, scopes: stored.claims.scope === '' ? [] : stored.claims.scope.split(' '), claims: stored.claims };
    }
    return verifyAccessToken(token, this.keys.resolve, {
      issuer: this.options.issuer,
      audience,
      algorithms: SIGNING_ALGORITHMS,
      clockTolerance: this.options.clockTolerance,
      clock: this.options.clock,
      acceptScp,
    });
  }

  /**
   * {@link readToken}, with a check that says later whether the acceptance still stands: a JWT only
   * while its signing key is not retired (so a verified-token cache never outlives `key retire` or
   * a key's `retireAt`); a reference token as long as it is not expired (revocation is checked apart).
   */
  async readTokenBound(token: string, audience: readonly string[] | undefined, acceptScp: boolean): Promise<BoundVerification> {
    const verified = await this.readToken(token, audience, acceptScp);
    if (isReferenceToken(token)) return { verified, stillHolds: () => true };
    // The token verified, so its header is a JSON object with a string kid.
    const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8')) as { kid: string };
    return { verified, stillHolds: () => this.keys.trusted(header.kid) };
  }

  private async saveReferenceToken(claims: AccessTokenClaims): Promise<string> {
    const token = newReferenceToken();
    await this.store.saveReferenceToken(
      { tokenHash: hashReferenceToken(token), jti: claims.jti, clientId: claims.client_id, claims, expiresAt: claims.exp * 1000 },
      this.options.clock(),
    );
    return token;
  }

  /** Stops background work and closes the store if this server opened it. */
  async close(): Promise<void> {
    this.clientAuth.close();
    this.rotationSchedule?.stop();
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
