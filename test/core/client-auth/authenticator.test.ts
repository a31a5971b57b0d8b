// ClientAuthenticator (lib/core/client-auth/authenticator.ts): the same cost for an unknown client_id and a wrong secret (RFC 6749 §10.10), and the framework-free path of one request.
import bcrypt from 'bcrypt';
import { InvalidClientError } from '../../../lib';
import type { AuditEvent } from '../../../lib/core';
import { buildApp, type TestApp } from '../../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildApp({ bcryptCost: 5 });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

/** The bcrypt comparisons one authentication ran, as the cost of each hash compared against. */
async function comparisons(id: string, secret: string): Promise<number[]> {
  const compare = jest.spyOn(bcrypt, 'compare');
  await expect(t.oauth.server.authenticateClient(id, secret)).rejects.toBeInstanceOf(InvalidClientError);
  const costs = compare.mock.calls.map(([, hash]) => bcrypt.getRounds(hash as string));
  compare.mockRestore();
  return costs;
}

describe('client authentication timing', () => {
  it('runs exactly one comparison at the configured cost for an unknown client_id and for a wrong secret alike', async () => {
    const { id } = await t.createClient();
    await t.oauth.server.authenticateClient('warm-up', 'x').catch(() => undefined);
    expect(await comparisons(id, 'wrong-secret')).toEqual([5]);
    expect(await comparisons('no-such-client', 'wrong-secret')).toEqual([5]);
    expect(await comparisons(`${id}0`, 'wrong-secret')).toEqual([5]);
  });

  it('runs no comparison for a secret bcrypt could not have produced, whether or not the client exists', async () => {
    const { id } = await t.createClient();
    for (const secret of ['a'.repeat(73), 'has space', 'nul\u0000byte', 'é']) {
      expect(await comparisons(id, secret)).toEqual([]);
      expect(await comparisons('no-such-client', secret)).toEqual([]);
    }
  });
});

describe('client authentication without a framework (authenticateRequest)', () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const context = { address: '10.0.0.1' };

  it('authenticates Basic and body credentials, each read once, and resolves the client', async () => {
    const { id, secret } = await t.createClient();
    const auth = t.oauth.server.clientAuth;
    await expect(auth.authenticateRequest({ authorization: basic(id, secret), form: {} }, context)).resolves.toMatchObject({ id });
    await expect(auth.authenticateRequest({ authorization: undefined, form: { client_id: id, client_secret: secret } }, context)).resolves.toMatchObject({ id });
  });

  it('rejects a request that uses two methods with invalid_request (RFC 6749 §2.3)', async () => {
    const { id, secret } = await t.createClient();
    const request = { authorization: basic(id, secret), form: { client_id: id, client_secret: secret } };
    await expect(t.oauth.server.clientAuth.authenticateRequest(request, context)).rejects.toMatchObject({
      error: 'invalid_request',
      message: 'use either HTTP Basic or body credentials, not both (RFC 6749 §2.3)',
    });
  });

  it('records every failed authentication as one audit event with the claimed id, never the secret', async () => {
    const { id } = await t.createClient();
    const events: AuditEvent[] = [];
    t.oauth.events.on('audit', (e: AuditEvent) => events.push(e));
    const auth = t.oauth.server.clientAuth;
    await expect(auth.authenticateRequest({ authorization: basic(id, 'wrong-secret'), form: {} }, context)).rejects.toBeInstanceOf(InvalidClientError);
    await expect(auth.authenticateRequest({ authorization: 'Basic !!!', form: {} }, context)).rejects.toBeInstanceOf(InvalidClientError);
    expect(events).toEqual([
      { type: 'client.authentication_failed', time: expect.any(Number), clientId: id, reason: 'client authentication failed', address: '10.0.0.1' },
      { type: 'client.authentication_failed', time: expect.any(Number), clientId: undefined, reason: 'Basic credentials are not valid base64', address: '10.0.0.1' },
    ]);
  });
});
