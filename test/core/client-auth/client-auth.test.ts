// Client authentication costs the same for an unknown client_id and a wrong secret (RFC 6749 §10.10): one bcrypt comparison at the same cost.
import bcrypt from 'bcrypt';
import { InvalidClientError } from '../../../lib';
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
