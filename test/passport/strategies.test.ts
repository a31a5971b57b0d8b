// Passport client authentication: RFC 6749 §2.3.1 decoding of Basic credentials, the body strategy, and failure mapping.
import express, { type NextFunction, type Request, type Response } from 'express';
import passport from 'passport';
import request from 'supertest';
import type { Client } from '../../lib/core';
import { InvalidClientError } from '../../lib';
import { BASIC, BODY, createClientPassport, formDecode, parseBasicCredentials, type AuthenticateClient } from '../../lib/passport/strategies';

function b64(text: string | Buffer): string {
  return Buffer.from(text).toString('base64');
}

describe('formDecode (RFC 6749 §2.3.1, application/x-www-form-urlencoded)', () => {
  it('decodes + as a space and %XX as UTF-8', () => {
    expect(formDecode('a+b%3Ac%2F%C3%A9%2B')).toBe('a b:c/é+');
  });

  it('returns undefined for a malformed %-encoding', () => {
    expect(formDecode('%zz')).toBeUndefined();
    expect(formDecode('%C3')).toBeUndefined();
    expect(formDecode('abc%')).toBeUndefined();
  });
});

describe('parseBasicCredentials (RFC 7617, RFC 6749 §2.3.1)', () => {
  it('reads and form-decodes id and secret', () => {
    expect(parseBasicCredentials(`Basic ${b64('my+id%3A1:s%25cr%2Bt')}`)).toEqual({ ok: true, clientId: 'my id:1', clientSecret: 's%cr+t' });
  });

  it('accepts the scheme name case-insensitively (RFC 7235 §2.1)', () => {
    expect(parseBasicCredentials(`bAsIc ${b64('id:secret')}`)).toEqual({ ok: true, clientId: 'id', clientSecret: 'secret' });
  });

  it.each([
    ['not Basic', `Bearer ${b64('id:secret')}`, 'malformed Basic credentials'],
    ['no credentials', 'Basic ', 'malformed Basic credentials'],
    ['trailing data', `Basic ${b64('id:secret')} x`, 'malformed Basic credentials'],
    ['base64 without its padding', 'Basic aWQ6c2VjcmV0cw', 'Basic credentials are not valid base64'],
    ['base64 characters outside the alphabet', 'Basic aWQ6c2VjcmV0!!==', 'Basic credentials are not valid base64'],
    ['no colon', `Basic ${b64('idsecret')}`, 'Basic credentials must be client_id:client_secret'],
    ['two colons', `Basic ${b64('id:sec:ret')}`, 'Basic credentials must be client_id:client_secret'],
    ['an empty id', `Basic ${b64(':secret')}`, 'Basic credentials have an empty part'],
    ['an empty secret', `Basic ${b64('id:')}`, 'Basic credentials have an empty part'],
    ['non-UTF-8 bytes', `Basic ${b64(Buffer.from([0xc3, 0x28, 0x3a, 0x61]))}`, 'Basic credentials are not valid UTF-8'],
    ['a bad %-encoding', `Basic ${b64('id:sec%G0')}`, 'Basic credentials are not correctly form-encoded (RFC 6749 §2.3.1)'],
  ])('refuses %s', (_case, header, reason) => {
    expect(parseBasicCredentials(header)).toEqual({ ok: false, reason });
  });
});

describe('client passport strategies', () => {
  const client = { id: 'the-client' } as Client;

  /** An app that runs one strategy and answers 200 with the client, 401 on failure, 500 on error. */
  function appFor(strategy: string, authenticate: AuthenticateClient) {
    const clientPassport = createClientPassport(authenticate, 'oauth');
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.post('/token', clientPassport.authenticate(strategy, { session: false }), (req: Request, res: Response) =>
      res.json({ id: (req.user as Client).id }),
    );
    app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => res.status(500).json({ error: 'server_error' }));
    return app;
  }

  it('Basic: form-decodes id and secret before authenticating (RFC 6749 §2.3.1)', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockResolvedValue(client);
    const res = await request(appFor(BASIC, authenticate)).post('/token').set('Authorization', `Basic ${b64('a+b%21:p%40ss%2Bword')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'the-client' });
    expect(authenticate).toHaveBeenCalledWith('a b!', 'p@ss+word');
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
    expect(authenticate).toHaveBeenCalledWith('a+b', 'x%2By');
  });

  it('Body: fails when client_id or client_secret is missing', async () => {
    const authenticate = jest.fn<ReturnType<AuthenticateClient>, Parameters<AuthenticateClient>>().mockResolvedValue(client);
    const res = await request(appFor(BODY, authenticate)).post('/token').type('form').send({ client_id: 'a' });
    expect(res.status).toBe(401);
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('registers its strategies on a private Passport instance, leaving the app\'s global one alone', () => {
    createClientPassport(jest.fn(), 'oauth');
    const global = passport as unknown as { _strategy(name: string): unknown };
    expect(global._strategy(BASIC)).toBeUndefined();
    expect(global._strategy(BODY)).toBeUndefined();
  });
});
