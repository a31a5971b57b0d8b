// The HTTP side of the token client: RFC 8414 metadata (fetched once, refetched after a failure) and the client credentials request (RFC 6749 §4.4) through oauth4webapi; the one place their errors become TokenClientError.
import * as oauth from 'oauth4webapi';
import { parseRetryAfter } from './backoff';
import { clientAuthentication } from './client-auth';
import { TokenClientError } from './errors';
import { isLoopback, type ResolvedTokenClientOptions } from './options';

/** What a successful token response gives the cache. */
export interface TokenEndpointResult {
  accessToken: string;
  /** Seconds, as the server sent them; `undefined` when it sent no `expires_in`. */
  expiresIn: number | undefined;
  /** The granted scope (RFC 6749 §5.1), when the server named it. */
  scope: string | undefined;
  /** `DPoP` when the server bound the token to the client's key (RFC 9449 §5); else `Bearer`. */
  tokenType: 'Bearer' | 'DPoP';
}

/** Reads `{ error, error_description }` from a failed token response without trusting its shape. */
async function errorBody(response: Response): Promise<{ error?: string; description?: string }> {
  try {
    const body = (await response.json()) as unknown;
    if (typeof body !== 'object' || body === null) return {};
    const { error, error_description: description } = body as Record<string, unknown>;
    return {
      ...(typeof error === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(error) ? { error } : {}),
      ...(typeof description === 'string' ? { description: description.slice(0, 500) } : {}),
    };
  } catch {
    return {};
  }
}

/** Whether a failure says nothing about our credentials or request, so the metadata may be stale. */
function mayBeStaleMetadata(err: TokenClientError): boolean {
  return err.status === undefined || err.status === 404 || err.status >= 500;
}

/**
 * One authorization server's token endpoint. With an `issuer`, the endpoint comes from its RFC 8414
 * metadata, fetched on first use (one request shared by concurrent callers) and fetched again after
 * a token request that failed without an OAuth error (network, 404, 5xx), in case the server moved it.
 */
export class TokenEndpoint {
  private metadata: oauth.AuthorizationServer | undefined;
  private discovering: Promise<oauth.AuthorizationServer> | undefined;
  private readonly client: oauth.Client;
  private readonly auth: oauth.ClientAuth;
  private readonly http: { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]: boolean };

  /** One controller per request in flight: its timeout, and {@link close}. */
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  /**
   * @param dpop the client's DPoP handle (oauth4webapi: signs proofs, keeps the server's nonce), when
   * tokens are to be DPoP-bound.
   */
  constructor(
    private readonly options: ResolvedTokenClientOptions,
    private readonly dpop?: () => Promise<oauth.DPoPHandle>,
  ) {
    this.client = { client_id: options.clientId };
    this.auth = clientAuthentication(options.credential);
    const url = (options.issuer ?? options.tokenEndpoint) as string;
    this.http = {
      [oauth.customFetch]: options.fetch,
      // oauth4webapi refuses http: unless told; options.ts already limited it to loopback or an explicit opt-in.
      [oauth.allowInsecureRequests]: options.allowInsecureRequests || isLoopback(url),
    };
    if (options.tokenEndpoint !== undefined) {
      this.metadata = { issuer: new URL(options.tokenEndpoint).origin, token_endpoint: options.tokenEndpoint };
    }
  }

  /** Stops every request in flight. */
  close(): void {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
  }

  /**
   * Runs one HTTP exchange (request and whole body) under its own abort signal: aborted after
   * `requestTimeoutMs` by an unref'd timer (it never keeps the process alive), or by close().
   */
  private async exchange(run: (signal: AbortSignal) => Promise<Response>): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timed out')), this.options.requestTimeoutMs);
    timer.unref();
    this.inFlight.add(controller);
    try {
      const response = await run(controller.signal);
      // Read the body under the same timeout: a server that sends headers and then stalls is cut off too.
      const body = await response.arrayBuffer();
      const empty = body.byteLength === 0 || [204, 205, 304].includes(response.status);
      return new Response(empty ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  /** The metadata, fetched once; concurrent callers share one request. */
  private async discover(): Promise<oauth.AuthorizationServer> {
    if (this.metadata) return this.metadata;
    this.discovering ??= (async () => {
      const issuer = new URL(this.options.issuer as string);
      let response: Response;
      try {
        response = await this.exchange((signal) => oauth.discoveryRequest(issuer, { algorithm: 'oauth2', signal, ...this.http }));
      } catch (err: unknown) {
        throw new TokenClientError('temporarily_unavailable', { description: 'the authorization server metadata could not be fetched', cause: err });
      }
      try {
        const metadata = await oauth.processDiscoveryResponse(issuer, response);
        if (typeof metadata.token_endpoint !== 'string') throw new Error('the metadata names no token_endpoint');
        this.metadata = metadata;
        return metadata;
      } catch (err: unknown) {
        const { status } = response;
        throw new TokenClientError(status >= 500 || status === 429 ? 'temporarily_unavailable' : 'server_error', {
          status,
          description: `unusable authorization server metadata (RFC 8414): ${err instanceof Error ? err.message : String(err)}`,
          cause: err,
        });
      }
    })().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  /**
   * Asks for a token. Rejects with a {@link TokenClientError}; its `retryAfter` is the server's
   * `Retry-After` of a 429 or 503, if any.
   * Every resource is sent as its own `resource` parameter (RFC 8707 §2).
   */
  async request(scopes: readonly string[], resources: readonly string[]): Promise<TokenEndpointResult> {
    const metadata = await this.discover();
    const params = new URLSearchParams();
    if (scopes.length > 0) params.set('scope', scopes.join(' '));
    for (const resource of resources) params.append('resource', resource);
    const dpop = this.dpop ? await this.dpop() : undefined;
    let response = await this.post(metadata, params, dpop);
    // RFC 9449 §8: a server that wants a nonce answers use_dpop_nonce with a DPoP-Nonce header; oauth4webapi
    // keeps the nonce while reading the answer, and the request is sent once more with it.
    if (dpop && response.status === 400 && (await this.asksForNonce(metadata, response))) {
      response = await this.post(metadata, params, dpop);
    }
    if (response.status !== 200) throw await this.failure(response);
    try {
      const body = await oauth.processClientCredentialsResponse(metadata, this.client, response);
      // RFC 6750 / RFC 9449 §5: a bearer token, or a DPoP token when this client asked for one (a server
      // without DPoP support may still answer Bearer); anything else cannot be used.
      const tokenType = body.token_type === 'bearer' ? 'Bearer' : body.token_type === 'dpop' && dpop ? 'DPoP' : undefined;
      if (tokenType === undefined) throw new Error(`token_type ${JSON.stringify(body.token_type)} is not ${dpop ? 'DPoP or ' : ''}Bearer`);
      const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
      return { accessToken: body.access_token, expiresIn, scope: body.scope, tokenType };
    } catch (err: unknown) {
      const description = `the token endpoint sent an invalid token response: ${err instanceof Error ? err.message : String(err)}`;
      throw new TokenClientError('server_error', { status: 200, description, cause: err });
    }
  }

  /** One token request (with a DPoP proof when `dpop` is given); a network failure is a TokenClientError. */
  private async post(metadata: oauth.AuthorizationServer, params: URLSearchParams, dpop: oauth.DPoPHandle | undefined): Promise<Response> {
    try {
      return await this.exchange((signal) =>
        oauth.clientCredentialsGrantRequest(metadata, this.client, this.auth, params, { signal, ...this.http, ...(dpop ? { DPoP: dpop } : {}) }),
      );
    } catch (err: unknown) {
      if (this.options.issuer !== undefined) this.metadata = undefined;
      const description = this.closed ? 'the token client was closed' : 'the token endpoint could not be reached';
      throw new TokenClientError('temporarily_unavailable', { description, cause: err });
    }
  }

  /** Whether a 400 is RFC 9449 §8's use_dpop_nonce; oauth4webapi reads (a copy of) it and keeps the new nonce. */
  private async asksForNonce(metadata: oauth.AuthorizationServer, response: Response): Promise<boolean> {
    try {
      await oauth.processClientCredentialsResponse(metadata, this.client, response.clone());
      return false;
    } catch (err: unknown) {
      return oauth.isDPoPNonceError(err);
    }
  }

  /** An error answer (RFC 6749 §5.2) as a typed error; 429 and 503 carry their Retry-After. */
  private async failure(response: Response): Promise<TokenClientError> {
    const { status } = response;
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after'), this.options.now()) : undefined;
    const body = await errorBody(response);
    const fallback = status >= 500 || status === 429 ? 'temporarily_unavailable' : 'server_error';
    const error = new TokenClientError(body.error ?? fallback, {
      status,
      description: body.description ?? (body.error ? undefined : `the token endpoint answered HTTP ${status}`),
      retryAfter: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
    });
    if (this.options.issuer !== undefined && mayBeStaleMetadata(error)) this.metadata = undefined;
    return error;
  }
}
