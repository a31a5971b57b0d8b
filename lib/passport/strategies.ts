// Passport strategies for client authentication: HTTP Basic (passport-http) and body credentials, each handing the request to the core ClientAuthenticator.
import type { Request } from 'express';
import { Passport, Strategy } from 'passport';
import { BasicStrategy } from 'passport-http';
// passport-oauth2-client-password ships no types; its constructor takes ({ passReqToCallback }, verify(req, id, secret, done)).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import ClientPasswordStrategy = require('passport-oauth2-client-password');
import { InvalidClientError } from '../core/model/errors';
import type { Client } from '../core/model/client';
import type { ClientAuthContext } from '../core/client-auth/authenticator';
import { clientAddress } from '../express/client-address';
import type { ClientAuthRequest, ClientCredential } from '../core/client-auth/methods';

/** Passport names of the strategies. */
export const BASIC = 'client-basic';
export const BODY = 'client-body';
export const ASSERTION = 'client-assertion';

/** What the strategies need of the core (a {@link ClientAuthenticator} fits): read a credential, verify it. */
export interface PassportClientAuth {
  /** Reads the credential of method `name` from the request, once; throws InvalidClientError when malformed. */
  read(name: string, request: ClientAuthRequest, context: ClientAuthContext): ClientCredential;
  /** Resolves the client the credential proves; rejects with InvalidClientError when it proves none. */
  authenticate(credential: ClientCredential, context: ClientAuthContext): Promise<Client>;
}

/** The request as the core sees it: the header and the form's single, non-empty string parameters. */
export function clientAuthRequest(req: Request): ClientAuthRequest {
  const form: Record<string, string> = {};
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null) {
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      if (typeof value === 'string' && value !== '') form[name] = value;
    }
  }
  return { authorization: req.headers.authorization, form };
}

/**
 * Where the request came from: the address the token router took when the request started (`req.ip`
 * then, honouring Express's `trust proxy`), never read again later, when a reset connection has none.
 */
export function clientAuthContext(req: Request): ClientAuthContext {
  return { address: clientAddress(req) };
}

type Done = (err: unknown, client?: Client | false) => void;

/**
 * The verify callback of both strategies (`passReqToCallback`: the request is how the context reaches
 * the core). A credential that proves no client is a Passport failure; anything else (429, 503, a
 * store failure) is an error.
 */
function verifier(auth: PassportClientAuth, method: string) {
  return (req: Request, clientId: string, clientSecret: string, done: Done): void => {
    const credential = { method, clientId, secret: clientSecret };
    auth.authenticate(credential, clientAuthContext(req)).then(
      (client) => done(null, client),
      (err: unknown) => (err instanceof InvalidClientError ? done(null, false) : done(err)),
    );
  };
}

/** The Passport actions a strategy gets for each request (passport-strategy's augmentation). */
interface StrategyActions {
  success(client: Client): void;
  fail(challenge?: string): void;
  error(err: unknown): void;
}

/**
 * What both strategies do with a request: the core method reads the credential (the one parse; a
 * malformed one is an error carrying its `invalid_client` reason, and the challenge when there is one),
 * then the verify callback gets the request and the credential.
 */
function authenticateThrough(
  strategy: StrategyActions,
  req: Request,
  auth: PassportClientAuth,
  method: string,
  verify: ReturnType<typeof verifier>,
  challenge: string | undefined,
): void {
  let credential: ClientCredential & { secret?: string };
  try {
    credential = auth.read(method, clientAuthRequest(req), clientAuthContext(req));
  } catch (err: unknown) {
    if (err instanceof InvalidClientError && challenge !== undefined) {
      return strategy.error(new InvalidClientError(err.message, { headers: { 'WWW-Authenticate': challenge } }));
    }
    return strategy.error(err);
  }
  verify(req, credential.clientId, credential.secret ?? '', (err, client) => {
    if (err) return strategy.error(err);
    if (!client) return strategy.fail(challenge);
    strategy.success(client);
  });
}

/**
 * passport-http's Basic strategy (`client_secret_basic`) with the header read by the core: passport-http's
 * own split takes one space only, splits on every colon, accepts non-canonical base64 and never
 * form-decodes, all of which RFC 7617 and RFC 6749 §2.3.1 require otherwise.
 */
class ClientSecretBasicStrategy extends BasicStrategy {
  declare success: (client: Client) => void;
  declare fail: (challenge?: string) => void;
  declare error: (err: unknown) => void;
  private readonly challenge: string;

  constructor(
    realm: string,
    private readonly auth: PassportClientAuth,
    private readonly verify: ReturnType<typeof verifier>,
  ) {
    super({ realm, passReqToCallback: true }, verify);
    this.name = BASIC;
    this.challenge = `Basic realm="${realm}"`;
  }

  override authenticate(req: Request): void {
    authenticateThrough(this, req, this.auth, 'client_secret_basic', this.verify, this.challenge);
  }
}

/**
 * passport-oauth2-client-password's body strategy (`client_secret_post`), the fields read by the core
 * too, so a missing or empty `client_id` gets the same `invalid_client` reason with or without Passport.
 */
class ClientSecretPostStrategy extends ClientPasswordStrategy {
  declare success: (client: Client) => void;
  declare fail: (challenge?: string) => void;
  declare error: (err: unknown) => void;

  constructor(
    private readonly auth: PassportClientAuth,
    private readonly verify: ReturnType<typeof verifier>,
  ) {
    super({ passReqToCallback: true }, verify);
    this.name = BODY;
  }

  override authenticate(req: Request): void {
    authenticateThrough(this, req, this.auth, 'client_secret_post', this.verify, undefined);
  }
}

/**
 * `private_key_jwt` (RFC 7523 §2.2): the core method reads the assertion from the form (the one parse:
 * the client id is its `sub`), and the core authenticator checks it within the failure limits. There is
 * no Passport package for client assertions, so this is passport-strategy's base with the same actions.
 */
class ClientAssertionStrategy extends Strategy {
  declare success: (client: Client) => void;
  declare fail: (challenge?: string) => void;
  declare error: (err: unknown) => void;

  constructor(private readonly auth: PassportClientAuth) {
    super();
    this.name = ASSERTION;
  }

  override authenticate(req: Request): void {
    let credential: ClientCredential;
    try {
      credential = this.auth.read('private_key_jwt', clientAuthRequest(req), clientAuthContext(req));
    } catch (err: unknown) {
      return this.error(err);
    }
    this.auth.authenticate(credential, clientAuthContext(req)).then(
      (client) => this.success(client),
      (err: unknown) => (err instanceof InvalidClientError ? this.fail() : this.error(err)),
    );
  }
}

/**
 * A private Passport instance (the host app's global one is left alone) with the Basic strategy
 * (`client_secret_basic`), the body-credential strategy (`client_secret_post`) and the client
 * assertion strategy (`private_key_jwt`), each over its core method.
 */
export function createClientPassport(auth: PassportClientAuth, realm: string): InstanceType<typeof Passport> {
  const passport = new Passport();
  passport.use(BASIC, new ClientSecretBasicStrategy(realm, auth, verifier(auth, 'client_secret_basic')));
  passport.use(BODY, new ClientSecretPostStrategy(auth, verifier(auth, 'client_secret_post')));
  passport.use(ASSERTION, new ClientAssertionStrategy(auth));
  return passport;
}

/** The strategy that carries each core method. */
export const STRATEGY_OF_METHOD: Readonly<Record<string, string>> = {
  client_secret_basic: BASIC,
  client_secret_post: BODY,
  private_key_jwt: ASSERTION,
};
