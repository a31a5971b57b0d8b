// Client authentication methods (RFC 6749 §2.3): what each looks for in a request, how it reads its credential once, how it checks it.
import { InvalidClientError, InvalidRequestError } from '../model/errors';
import { acceptedSecretHashes, type Client } from '../model/client';
import type { PresentedSecret, SecretMemory } from './secret-memory';
import { isPlausibleSecret, type SecretVerifier } from './secrets';

/** What a client-authentication method sees of a request, with no framework: the header and the form. */
export interface ClientAuthRequest {
  /** The `Authorization` header as received; undefined when absent. */
  authorization: string | undefined;
  /** The form parameters, each a single non-empty string (RFC 6749 §3.1: an empty value counts as absent). */
  form: Readonly<Record<string, string | undefined>>;
}

/** A credential one method read from a request: at least the client id it claims. */
export interface ClientCredential {
  /** The method's name, as in RFC 8414 `token_endpoint_auth_methods_supported`. */
  method: string;
  clientId: string;
}

/** The credential of the two client-secret methods: the secret, and its keyed hash once the secret memory computed it. */
export interface SecretCredential extends ClientCredential, PresentedSecret {}

/** Runs costly work (bcrypt, a signature) through the instance's gate; a verification calls it at most once. */
export type CostlyWork = <T>(job: () => Promise<T>) => Promise<T>;

/**
 * One client-authentication method. The {@link ClientAuthenticator} asks every method whether a request
 * uses it (`uses`, presence only), refuses a request that uses two (RFC 6749 §2.3), lets the one method
 * read its credential (`parse`, once), then — after the failure limits — looks the client up and lets the
 * method check the credential (`recalls` for free, else `verify` within one gate slot).
 *
 * A new method slots in as one more implementation and one more Passport strategy. For `private_key_jwt`
 * (RFC 7523 §2.2, RFC 7521 §4.2): `uses` sees `client_assertion_type` =
 * `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`; `parse` decodes the `client_assertion` JWT
 * without trusting it and takes `sub` (= `iss`) as the client id, refusing a malformed one or a body
 * `client_id` that differs; `verify` checks the signature against the client's registered keys and `aud`,
 * `exp` and the `jti` replay window (through `work`, since a signature costs CPU); `recalls` is omitted.
 */
export interface ClientAuthMethod<C extends ClientCredential = ClientCredential> {
  /** RFC 8414 name: `client_secret_basic`, `client_secret_post`, later `private_key_jwt`. */
  readonly name: string;
  /** How an error message names the method (`HTTP Basic`, `body credentials`). */
  readonly label: string;
  /** Whether the method reads the `Authorization` header (a header no method reads is `invalid_client`). */
  readonly readsAuthorizationHeader: boolean;
  /** Whether the request uses this method at all; no parsing. */
  uses(request: ClientAuthRequest): boolean;
  /** Reads the credential, once; throws InvalidClientError (malformed) or InvalidRequestError (contradictory). */
  parse(request: ClientAuthRequest): C;
  /** Proof without costly work (a secret this process already verified for the client as it is now). */
  recalls?(credential: C, client: Client): boolean;
  /**
   * Whether {@link recalls} could hold, judged without the client row (no store read): lets a caller
   * from a refused address go on to be confirmed against its row, and refuses everyone else at once.
   */
  mayRecall?(credential: C): boolean;
  /**
   * Whether the credential proves the client. `client` is undefined for an unknown id: the method must
   * then spend the same work and resolve false, so the answer does not reveal which ids exist. A method
   * that knows why a credential failed may resolve `{ failed: reason }` instead of false: the reason
   * goes into the audit event only, never into the response.
   */
  verify(credential: C, client: Client | undefined, work: CostlyWork): Promise<VerifyOutcome>;
}

/** What {@link ClientAuthMethod.verify} resolves: proved, not proved, or not proved with the reason for the audit log. */
export type VerifyOutcome = boolean | { failed: string };

/**
 * Canonical base64 (RFC 4648 §4, padded): whole groups of four, `=` only as the last one or two
 * characters. Tested with the length; the one-class pattern runs twice as fast as one spelling the groups out.
 */
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (value: string): boolean => value.length % 4 === 0 && BASE64_CHARS.test(value);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * RFC 6749 §2.3.1: id and secret are form-urlencoded before they go into the Basic credentials.
 * Returns undefined for a malformed encoding.
 */
export function formDecode(value: string): string | undefined {
  // Most ids and secrets (ours are base64url) have nothing to decode.
  if (!value.includes('%') && !value.includes('+')) return value;
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The outcome of reading an `Authorization: Basic` header. */
export type BasicCredentials = { ok: true; clientId: string; clientSecret: string } | { ok: false; reason: string };

/**
 * Reads `Authorization: Basic <base64(id:secret)>` strictly: the scheme in any case followed by one or
 * more spaces (RFC 7235 §2.1), canonical base64, UTF-8, exactly one colon (the encoded id and secret
 * contain none), both parts non-empty after form-decoding (RFC 6749 §2.3.1). passport-http's own split
 * (on every colon, one space only, lenient base64, no decoding) does not meet these, so this is the one
 * place a Basic header is read.
 */
export function parseBasicCredentials(header: string): BasicCredentials {
  const match = /^Basic +(\S+)$/i.exec(header);
  if (!match) return { ok: false, reason: 'malformed Basic credentials' };
  const encoded = match[1] as string;
  if (!isBase64(encoded)) return { ok: false, reason: 'Basic credentials are not valid base64' };
  let text: string;
  try {
    text = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return { ok: false, reason: 'Basic credentials are not valid UTF-8' };
  }
  const parts = text.split(':');
  if (parts.length !== 2) return { ok: false, reason: 'Basic credentials must be client_id:client_secret' };
  const clientId = formDecode(parts[0] as string);
  const clientSecret = formDecode(parts[1] as string);
  if (clientId === undefined || clientSecret === undefined) {
    return { ok: false, reason: 'Basic credentials are not correctly form-encoded (RFC 6749 §2.3.1)' };
  }
  if (clientId === '' || clientSecret === '') return { ok: false, reason: 'Basic credentials have an empty part' };
  return { ok: true, clientId, clientSecret };
}

/**
 * How the two client-secret methods check a secret: a remembered verification costs one keyed hash; otherwise
 * every hash the client accepts is compared side by side within one slot (a client in a grace period has
 * two), so a wrong secret costs about one comparison's time, as for an unknown id.
 */
export class SecretCheck {
  constructor(
    private readonly verifier: SecretVerifier,
    private readonly now: () => number,
    private readonly memory?: SecretMemory,
  ) {}

  /** Whether this process already verified exactly this secret for the client's current row (no bcrypt). */
  recalls(presented: PresentedSecret, client: Client): boolean {
    if (!this.memory || !isPlausibleSecret(presented.secret)) return false;
    const acceptedHashes = acceptedSecretHashes(client, this.now());
    return this.memory.recalls(presented, { version: client.version, enabled: client.enabled, acceptedHashes });
  }

  /** Whether this process remembers exactly this secret for this id (one keyed hash; no client row, so not yet a proof). */
  mayRecall(presented: PresentedSecret): boolean {
    return this.memory !== undefined && isPlausibleSecret(presented.secret) && this.memory.holds(presented);
  }

  /**
   * bcrypt against the client's accepted hashes (a dummy of the same cost for an unknown or secret-less
   * client); a secret bcrypt could not have produced is refused with no comparison, whatever the id.
   */
  async verify(presented: PresentedSecret, client: Client | undefined, work: CostlyWork): Promise<boolean> {
    if (!isPlausibleSecret(presented.secret)) return false;
    const hashes = client ? acceptedSecretHashes(client, this.now()) : [];
    const matched = await work(() => this.verifier.match(presented.secret, hashes));
    if (matched === undefined || !client) return false;
    if (client.enabled) this.memory?.remember(presented, matched, client.version);
    return true;
  }
}

abstract class ClientSecretMethod implements ClientAuthMethod<SecretCredential> {
  abstract readonly name: string;
  abstract readonly label: string;
  abstract readonly readsAuthorizationHeader: boolean;
  abstract uses(request: ClientAuthRequest): boolean;
  abstract parse(request: ClientAuthRequest): SecretCredential;

  constructor(private readonly check: SecretCheck) {}

  recalls(credential: SecretCredential, client: Client): boolean {
    return this.check.recalls(credential, client);
  }

  mayRecall(credential: SecretCredential): boolean {
    return this.check.mayRecall(credential);
  }

  verify(credential: SecretCredential, client: Client | undefined, work: CostlyWork): Promise<boolean> {
    return this.check.verify(credential, client, work);
  }
}

/** `client_secret_basic` (RFC 6749 §2.3.1): id and secret in `Authorization: Basic`. */
export class ClientSecretBasic extends ClientSecretMethod {
  readonly name = 'client_secret_basic';
  readonly label = 'HTTP Basic';
  readonly readsAuthorizationHeader = true;

  uses(request: ClientAuthRequest): boolean {
    return request.authorization !== undefined && /^basic(?: |$)/i.test(request.authorization);
  }

  /** A bare body `client_id` next to Basic must name the same client (RFC 6749 §3.2.1). */
  parse(request: ClientAuthRequest): SecretCredential {
    const basic = parseBasicCredentials(request.authorization ?? '');
    if (!basic.ok) throw new InvalidClientError(basic.reason);
    const bodyId = request.form.client_id;
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new InvalidRequestError('the client_id parameter does not match the authenticated client');
    }
    return { method: this.name, clientId: basic.clientId, secret: basic.clientSecret };
  }
}

/** `client_secret_post` (RFC 6749 §2.3.1): `client_id` and `client_secret` in the form body. */
export class ClientSecretPost extends ClientSecretMethod {
  readonly name = 'client_secret_post';
  readonly label = 'body credentials';
  readonly readsAuthorizationHeader = false;

  uses(request: ClientAuthRequest): boolean {
    return request.form.client_secret !== undefined;
  }

  parse(request: ClientAuthRequest): SecretCredential {
    const { client_id: clientId, client_secret: secret } = request.form;
    if (clientId === undefined) throw new InvalidClientError('client_secret was sent without client_id');
    if (secret === undefined) throw new InvalidClientError('client authentication is required');
    return { method: this.name, clientId, secret };
  }
}
