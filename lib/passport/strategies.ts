// Passport strategies for client authentication: HTTP Basic (passport-http) and body credentials, each handing the request to the core ClientAuthenticator.
import type { Request } from 'express';
import { Passport } from 'passport';
import { BasicStrategy } from 'passport-http';
// passport-oauth2-client-password ships no types; its constructor takes ({ passReqToCallback }, verify(req, id, secret, done)).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import ClientPasswordStrategy = require('passport-oauth2-client-password');
import { InvalidClientError } from '../core/model/errors';
import type { Client } from '../core/model/client';
import type { ClientAuthContext } from '../core/client-auth/authenticator';
import type { ClientAuthRequest, ClientCredential } from '../core/client-auth/methods';

/** Passport names of the two strategies. */
export const BASIC = 'client-basic';
export const BODY = 'client-body';

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

/** Where the request came from (`req.ip`, which honours Express's `trust proxy`). */
export function clientAuthContext(req: Request): ClientAuthContext {
  return { address: req.ip };
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

/**
 * passport-http's Basic strategy with the header read by the core (`client_secret_basic`): its own split
 * takes one space only, splits on every colon, accepts non-canonical base64 and never form-decodes, all
 * of which RFC 7617 and RFC 6749 §2.3.1 require otherwise. A malformed header is an error carrying the
 * `invalid_client` reason and the challenge, so the answer says what was wrong.
 */
class ClientSecretBasicStrategy extends BasicStrategy {
  declare success: (client: Client) => void;
  declare fail: (challenge: string) => void;
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
    let credential: ClientCredential & { secret?: string };
    try {
      credential = this.auth.read('client_secret_basic', clientAuthRequest(req), clientAuthContext(req));
    } catch (err: unknown) {
      if (err instanceof InvalidClientError) {
        return this.error(new InvalidClientError(err.message, { headers: { 'WWW-Authenticate': this.challenge } }));
      }
      return this.error(err);
    }
    this.verify(req, credential.clientId, credential.secret ?? '', (err, client) => {
      if (err) return this.error(err);
      if (!client) return this.fail(this.challenge);
      this.success(client);
    });
  }
}

/**
 * A private Passport instance (the host app's global one is left alone) with the Basic strategy
 * (`client_secret_basic`) and the body-credential strategy (`client_secret_post`:
 * passport-oauth2-client-password's ClientPasswordStrategy, reading the already form-decoded body).
 */
export function createClientPassport(auth: PassportClientAuth, realm: string): InstanceType<typeof Passport> {
  const passport = new Passport();
  passport.use(BASIC, new ClientSecretBasicStrategy(realm, auth, verifier(auth, 'client_secret_basic')));
  passport.use(BODY, new ClientPasswordStrategy({ passReqToCallback: true }, verifier(auth, 'client_secret_post')));
  return passport;
}

/** The strategy that carries each core method. */
export const STRATEGY_OF_METHOD: Readonly<Record<string, string>> = {
  client_secret_basic: BASIC,
  client_secret_post: BODY,
};
