// The token client: get, cache (per scope set + resources, LRU), share (single flight) and refresh client credentials tokens, and call resources with them, retrying a 401 once.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../core/model/bounded-lru';
import * as oauth from 'oauth4webapi';
import { backoffDelay } from './backoff';
import { tokenRequestShape, type TokenRequestShape } from './cache-key';
import { bearerError, challengeError } from './challenge';
import { TokenClientError } from './errors';
import { TokenClientEmitter } from './events';
import { isLoopback, resolveTokenClientOptions, type ResolvedTokenClientOptions, type TokenClientOptions } from './options';
import { TokenEndpoint } from './token-endpoint';

/** An access token as {@link TokenClient.getToken} returns it. Times are epoch milliseconds. */
export interface AccessToken {
  accessToken: string;
  /** `DPoP` for a token bound to this client's key (option `dpop`): {@link TokenClient.fetch} then sends proofs. */
  tokenType: 'Bearer' | 'DPoP';
  /** When it expires; `undefined` when the server sent no `expires_in` (then it is not cached). */
  expiresAt: number | undefined;
  /** The granted scopes: the response's `scope`, else the ones asked for (RFC 6749 §5.1). */
  scopes: string[];
  /** When it was requested. */
  fetchedAt: number;
}

/** Which token a call wants; left out, the client's `scope` / `resource` options apply. */
export interface TokenParams {
  scope?: string | readonly string[];
  resource?: string | readonly string[];
}

/** `fetch` options plus which token to send. */
export type TokenClientFetchInit = RequestInit & TokenParams;

interface CachedToken extends AccessToken {
  expiresAt: number;
  /** From here on the next caller refreshes it. */
  refreshAt: number;
}

/** Everything the client keeps for one cache key. */
interface KeyState {
  shape: TokenRequestShape;
  token: CachedToken | undefined;
  /** The one token request in progress for this key; every caller awaits it. */
  flight: Promise<AccessToken> | undefined;
  failures: number;
  lastError: TokenClientError | undefined;
  /** No token request before this time (backoff or Retry-After). */
  notBefore: number;
}

/** RFC 9110: a body sent twice must be readable twice; a stream is not. */
function replayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}

/** The `error` of the resource's challenge in the token's own scheme (RFC 6750 §3, RFC 9449 §7.1). */
function tokenError(response: Response, token: AccessToken): string | undefined {
  const header = response.headers.get('www-authenticate');
  return token.tokenType === 'DPoP' ? challengeError(header, 'dpop') : bearerError(header);
}

/** A URL for events and logs: origin and path, never the query (it may hold a secret). */
function describeUrl(input: string | URL): string {
  try {
    const url = new URL(String(input));
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Gets client credentials tokens (RFC 6749 §4.4) and keeps them in memory, one per scope set and
 * resource set, until shortly before they expire. See {@link createTokenClient}.
 */
export class TokenClient {
  /** Counters for an app: `token.fetched`, `token.fetch_failed`, `token.retried_after_401`, `token.rejected`. */
  readonly events: TokenClientEmitter;
  private readonly options: ResolvedTokenClientOptions;
  private readonly endpoint: TokenEndpoint;
  private readonly states: LRUCache<string, KeyState>;
  private closed = false;
  /** The DPoP key pair and nonce keeper (oauth4webapi), made on first use and kept for the client's life. */
  private dpopHandle: Promise<oauth.DPoPHandle> | undefined;

  constructor(options: TokenClientOptions) {
    this.options = resolveTokenClientOptions(options);
    this.events = new TokenClientEmitter(this.options.now, this.options.onListenerError);
    this.endpoint = new TokenEndpoint(this.options, this.options.dpop ? () => this.dpop() : undefined);
    // Bounded by count; no ttl, so lru-cache starts no timer (expiry is checked on read).
    this.states = boundedLru(this.options.maxEntries);
  }

  /**
   * A token for `params` (default: the client's `scope` and `resource`): the cached one while it is
   * fresh, else one from the token endpoint; concurrent callers for the same scope set and resources
   * share one request. Rejects with a {@link TokenClientError}.
   *
   * @example
   * const { accessToken } = await client.getToken({ scope: 'read' });
   */
  async getToken(params: TokenParams = {}): Promise<AccessToken> {
    const { token } = await this.acquire(this.shape(params));
    // A copy: what a caller does with it never changes the cache.
    return { accessToken: token.accessToken, tokenType: token.tokenType, expiresAt: token.expiresAt, scopes: [...token.scopes], fetchedAt: token.fetchedAt };
  }

  /**
   * `fetch(url, init)` with `Authorization: Bearer <token>`. When the resource answers 401 with
   * `error="invalid_token"` (RFC 6750 §3.1) to a token that was cached for a while, that token is
   * dropped (if the cache still holds it: another caller may have replaced it) and the call is sent
   * once more with a fresh one. A 401 to a token fetched moments ago (`freshTokenMs`), or to a call
   * whose body is a stream, is returned as it is. `init.scope` / `init.resource` choose the token.
   *
   * @example
   * const res = await client.fetch('https://items.internal/api/items');
   */
  async fetch(input: string | URL, init: TokenClientFetchInit = {}): Promise<Response> {
    const { scope, resource, ...requestInit } = init;
    const shape = this.shape({ scope, resource });
    const first = await this.acquire(shape);
    const response = await this.send(input, requestInit, first.token);
    if (response.status !== 401 || tokenError(response, first.token) !== 'invalid_token') return response;

    const payload = { scopes: [...shape.scopes], resources: [...shape.resources], url: describeUrl(input) };
    // Just fetched and already refused: the resource wants another audience or scope, and a new
    // token would be refused the same way. Keep the cache and return the 401 (no loop, no stampede).
    const fresh = first.requested || this.options.now() - first.token.fetchedAt < this.options.freshTokenMs;
    if (fresh || !replayable(requestInit.body)) {
      this.events.record('token.rejected', payload);
      return response;
    }
    this.invalidate(shape.key, first.token.accessToken);
    const second = await this.acquire(shape);
    if (second.token.accessToken === first.token.accessToken) {
      this.events.record('token.rejected', payload);
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
    this.events.record('token.retried_after_401', payload);
    return this.send(input, requestInit, second.token);
  }

  /** The client's DPoP handle: one ES256 key pair (non-extractable private key) for the client's life. */
  private dpop(): Promise<oauth.DPoPHandle> {
    this.dpopHandle ??= oauth.generateKeyPair('ES256').then((keyPair) => oauth.DPoP({}, keyPair));
    return this.dpopHandle;
  }

  /** Drops every cached token, stops requests in flight, and refuses further calls. Idempotent. */
  close(): void {
    this.closed = true;
    this.endpoint.close();
    this.states.clear();
  }

  private shape(params: TokenParams): TokenRequestShape {
    return tokenRequestShape(params.scope ?? this.options.scope, params.resource ?? this.options.resource);
  }

  private state(shape: TokenRequestShape): KeyState {
    let state = this.states.get(shape.key);
    if (!state) {
      state = { shape, token: undefined, flight: undefined, failures: 0, lastError: undefined, notBefore: -Infinity };
      this.states.set(shape.key, state);
    }
    return state;
  }

  /** Drops the cached token of `key` only if it is still `accessToken`. */
  private invalidate(key: string, accessToken: string): void {
    const state = this.states.peek(key);
    if (state?.token?.accessToken === accessToken) state.token = undefined;
  }

  /** A token and whether this call waited for the token endpoint to get it. */
  private async acquire(shape: TokenRequestShape): Promise<{ token: AccessToken; requested: boolean }> {
    if (this.closed) throw new TokenClientError('temporarily_unavailable', { description: 'the token client is closed' });
    const state = this.state(shape);
    const now = this.options.now();
    if (state.token && now >= state.token.expiresAt) state.token = undefined;
    const cached = state.token;
    if (cached && now < cached.refreshAt) return { token: cached, requested: false };
    let flight = state.flight;
    if (!flight) {
      if (now < state.notBefore) {
        // Backing off: no request. A token that is due for refresh but still valid is still good.
        if (cached) return { token: cached, requested: false };
        const last = state.lastError;
        throw new TokenClientError(last?.error ?? 'temporarily_unavailable', {
          status: last?.status,
          description: `${last?.description ?? 'the token endpoint failed'} (backing off after ${state.failures} failed request${state.failures === 1 ? '' : 's'})`,
          retryAfter: Math.ceil((state.notBefore - now) / 1000),
          cause: last,
        });
      }
      flight = this.refresh(state);
    }
    try {
      return { token: await flight, requested: true };
    } catch (err: unknown) {
      // A failed refresh of a token that has not expired yet: keep using it.
      if (cached && this.options.now() < cached.expiresAt && !this.closed) return { token: cached, requested: false };
      throw err;
    }
  }

  /** Starts the one token request of a key; its outcome updates the cache and the backoff. */
  private refresh(state: KeyState): Promise<AccessToken> {
    const { shape } = state;
    const o = this.options;
    const started = o.now();
    const flight = this.endpoint.request(shape.scopes, shape.resources).then(
      (result) => {
        state.failures = 0;
        state.lastError = undefined;
        state.notBefore = -Infinity;
        const base = {
          accessToken: result.accessToken,
          tokenType: result.tokenType,
          scopes: result.scope === undefined ? [...shape.scopes] : result.scope.split(' ').filter((s) => s !== ''),
          // The server started the lifetime at or after this moment, so expiry is never later than computed.
          fetchedAt: started,
        };
        const lifetimeMs = result.expiresIn === undefined ? 0 : result.expiresIn * 1000;
        // Without a lifetime the token is used by the callers of this request only, never cached:
        // guessing a lifetime could hand out an expired token.
        const cacheable = !this.closed && lifetimeMs > 0;
        let token: AccessToken;
        if (cacheable) {
          const buffer = Math.min(o.refreshBufferMs, lifetimeMs * o.refreshBufferMaxFraction);
          const cachedToken: CachedToken = { ...base, expiresAt: started + lifetimeMs, refreshAt: started + lifetimeMs - buffer };
          state.token = cachedToken;
          token = cachedToken;
        } else {
          state.token = undefined;
          token = { ...base, expiresAt: result.expiresIn === undefined ? undefined : started + lifetimeMs };
        }
        this.events.record('token.fetched', {
          scopes: [...shape.scopes],
          resources: [...shape.resources],
          expiresIn: result.expiresIn,
          cached: cacheable,
        });
        return token;
      },
      (err: unknown) => {
        const error = err instanceof TokenClientError ? err : new TokenClientError('server_error', { cause: err });
        state.failures += 1;
        state.lastError = error;
        const serverAsked = error.retryAfter !== undefined ? Math.min(error.retryAfter * 1000, o.retryAfterMaxMs) : undefined;
        const delay = serverAsked ?? backoffDelay(state.failures, o.backoffInitialMs, o.backoffMaxMs);
        state.notBefore = o.now() + delay;
        this.events.record('token.fetch_failed', {
          scopes: [...shape.scopes],
          resources: [...shape.resources],
          error: error.error,
          status: error.status,
          failures: state.failures,
          retryAfter: Math.ceil(delay / 1000),
        });
        throw error;
      },
    );
    state.flight = flight;
    const settle = (): void => {
      if (state.flight === flight) state.flight = undefined;
    };
    flight.then(settle, settle);
    return flight;
  }

  private async send(input: string | URL, init: RequestInit, token: AccessToken): Promise<Response> {
    if (token.tokenType === 'DPoP') {
      const response = await this.sendWithProof(input, init, token.accessToken);
      // RFC 9449 §9: the resource wants a nonce; oauth4webapi kept the one it sent, so try once more.
      if (response.status !== 401 || challengeError(response.headers.get('www-authenticate'), 'dpop') !== 'use_dpop_nonce') return response;
      if (!replayable(init.body)) return response;
      await response.body?.cancel().catch(() => undefined);
      return this.sendWithProof(input, init, token.accessToken);
    }
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token.accessToken}`);
    return this.options.fetch(input, { ...init, headers });
  }

  /**
   * RFC 9449 §7: `Authorization: DPoP <token>` and a fresh proof (htm, htu, ath, the resource's nonce)
   * through oauth4webapi. Its challenge errors are turned back into the response, as fetch would give it.
   * Redirects are not followed (a proof names one URI).
   */
  private async sendWithProof(input: string | URL, init: RequestInit, accessToken: string): Promise<Response> {
    const url = new URL(String(input));
    const o = this.options;
    try {
      return await oauth.protectedResourceRequest(
        accessToken,
        init.method ?? 'GET',
        url,
        new Headers(init.headers),
        init.body as oauth.ProtectedResourceRequestBody,
        {
          DPoP: await this.dpop(),
          ...(init.signal ? { signal: init.signal } : {}),
          [oauth.customFetch]: (href: string, options: RequestInit) => o.fetch(href, { ...init, ...options }),
          [oauth.allowInsecureRequests]: o.allowInsecureRequests || isLoopback(url.href),
        },
      );
    } catch (err: unknown) {
      if (err instanceof oauth.WWWAuthenticateChallengeError) return err.response;
      throw err;
    }
  }
}

/**
 * Creates a token client for one OAuth client at one authorization server.
 *
 * Defaults ({@link CLIENT_DEFAULTS}): `client_secret_basic`; refresh 60 s before expiry but not before
 * half the token's lifetime; 100 cache entries; backoff 1 s doubling to 30 s (a 429/503 `Retry-After`
 * instead, up to 10 min); 10 s request timeout; a token younger than 5 s that a resource refuses is
 * not replaced. A token response without `expires_in` is handed to the callers waiting for it and
 * not cached.
 *
 * @example
 * const client = createTokenClient({ issuer: 'https://auth.internal', clientId, clientSecret, scope: 'read' });
 * const res = await client.fetch('https://items.internal/api/items');
 * // on shutdown
 * client.close();
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  return new TokenClient(options);
}
