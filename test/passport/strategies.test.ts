// Passport client authentication: the Basic and body strategies hand RFC 6749 §2.3.1-decoded credentials, with the request, to the core; failure mapping.
import express, { type NextFunction, type Request, type Response } from 'express';
import passport from 'passport';
import request from 'supertest';
import type { Client } from '../../lib/core';
import { InvalidClientError, OAuthError } from '../../lib';
import { ClientSecretBasic, ClientSecretPost, type ClientCredential, type SecretCheck } from '../../lib/core/client-auth/methods';
import type { ClientAuthContext } from '../../lib/core/client-auth/authenticator';
import { BASIC, BODY, createClientPassport, type PassportClientAuth } from '../../lib/passport/strategies';
import { takeClientAddress } from '../../lib/express/client-address';

type AuthenticateClient = PassportClientAuth['authenticate'];
const methods = [new ClientSecretBasic({} as SecretCheck), new ClientSecretPost({} as SecretCheck)];

/** The core side of the strategies: the real parse of each method, and `authenticate` as given. */
function core(authenticate: AuthenticateClient): PassportClientAuth {
  return { read: (name, request) => methods.find((m) => m.name === name)!.parse(request), authenticate };
}

/** What `authenticate` receives for an id and secret sent with `method`. */
function credential(method: string, clientId: string, secret: string): [ClientCredential, ClientAuthContext] {
  return [{ method, clientId, secret } as ClientCredential, { address: expect.any(String) as string }];
}

function b64(text: string | Buffer): string {
  return Buffer.from(text).toString('base64');
}

describe('client passport strategies', () => {
  const client = { id: 'the-client' } as Client;

  /** An app that runs one strategy and answers 200 with the client, 401 on failure, 500 on error. */
  function appFor(strategy: string, authenticate: AuthenticateClient) {
    const clientPassport = createClientPassport(core(authenticate), 'oauth');
    const app = express();
    // As the token router does first: the address is taken when the request starts (issue 19).
    app.use((req: Request, _res: Response, next: NextFunction) => (takeClientAddress(req), next()));
    app.use(express.urlencoded({ extended: false }));
    app.post('/token', clientPassport.authenticate(strategy, { session: false }), (req: Request, res: Response) =>
      res.json({ id: (req.user as Client).id }),
    );
    // Like oauthErrorHandler(): an OAuth error (a malformed credential) with its status and headers, anything else 500.
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) =>
      err instanceof OAuthError ? res.status(err.status).set(err.headers).json(err.toJSON()) : res.status(500).json({ error: 'server_error' }),
    );
    return app;
  }

  it('Basic: form-decodes id and secret before authenticating (RFC 6749 §2.3.1)', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockResolvedValue(client);
    const res = await request(appFor(BASIC, authenticate)).post('/token').set('Authorization', `Basic ${b64('a+b%21:p%40ss%2Bword')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'the-client' });
    expect(authenticate).toHaveBeenCalledWith(...credential('client_secret_basic', 'a b!', 'p@ss+word'));
  });

  it('Basic: fails without calling authenticate when the encoding is malformed', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockResolvedValue(client);
    const res = await request(appFor(BASIC, authenticate)).post('/token').set('Authorization', `Basic ${b64('id:%E0%A4')}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="oauth"');
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('Basic: turns InvalidClientError into an authentication failure, not an error', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockRejectedValue(new InvalidClientError('no'));
    const res = await request(appFor(BASIC, authenticate)).post('/token').set('Authorization', `Basic ${b64('id:secret')}`);
    expect(res.status).toBe(401);
  });

  it('passes any other failure on as an error (a store failure is not a wrong secret)', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockRejectedValue(new Error('database gone'));
    const basic = await request(appFor(BASIC, authenticate)).post('/token').set('Authorization', `Basic ${b64('id:secret')}`);
    expect(basic.status).toBe(500);
    const body = await request(appFor(BODY, authenticate)).post('/token').type('form').send({ client_id: 'id', client_secret: 'secret' });
    expect(body.status).toBe(500);
  });

  it('Body: hands the already form-decoded client_id and client_secret over unchanged', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockResolvedValue(client);
    const res = await request(appFor(BODY, authenticate)).post('/token').type('form').send({ client_id: 'a+b', client_secret: 'x%2By' });
    expect(res.status).toBe(200);
    expect(authenticate).toHaveBeenCalledWith(...credential('client_secret_post', 'a+b', 'x%2By'));
  });

  it('Body: fails when client_id or client_secret is missing', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockResolvedValue(client);
    const res = await request(appFor(BODY, authenticate)).post('/token').type('form').send({ client_id: 'a' });
    expect(res.status).toBe(401);
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('registers its strategies on a private Passport instance, leaving the app\'s global one alone', () => {
    createClientPassport(core(jest.fn()), 'oauth');
    const global = passport as unknown as { _strategy(name: string): unknown };
    expect(global._strategy(BASIC)).toBeUndefined();
    expect(global._strategy(BODY)).toBeUndefined();
  });
});
