// SQLite one-time claims (Store.claimOnce) and the private_key_jwt / DPoP client columns (migration 2).
import { join } from 'node:path';
import { SqliteStore } from '../../lib/store/sqlite';
import { MemoryClaims } from '../../lib/core/verification/replay-cache';
import { tempDir } from '../helpers';

const NOW = Date.UTC(2026, 0, 1);

describe('Store.claimOnce (RFC 7523 §3 item 7, RFC 9449 §11.1)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());

  it('accepts an id once until it expires, per namespace', async () => {
    const store = SqliteStore.open(join(dir.dir, 'a.sqlite'));
    expect(await store.claimOnce('client_assertion', 'c1 j1', NOW + 60_000, NOW)).toBe(true);
    expect(await store.claimOnce('client_assertion', 'c1 j1', NOW + 60_000, NOW + 1000)).toBe(false);
    expect(await store.claimOnce('dpop', 'c1 j1', NOW + 60_000, NOW)).toBe(true);
    // After expiry the row is taken over by the one statement, not read first.
    expect(await store.claimOnce('client_assertion', 'c1 j1', NOW + 200_000, NOW + 60_000)).toBe(true);
    await store.close();
  });

  it('refuses the replay on another instance sharing the database file', async () => {
    const a = SqliteStore.open(join(dir.dir, 'shared.sqlite'));
    const b = SqliteStore.open(join(dir.dir, 'shared.sqlite'));
    expect(await a.claimOnce('dpop', 'x', NOW + 60_000, NOW)).toBe(true);
    expect(await b.claimOnce('dpop', 'x', NOW + 60_000, NOW)).toBe(false);
    await a.close();
    await b.close();
  });

  it('purges expired claims in bounded batches on each claim', async () => {
    const store = SqliteStore.open(join(dir.dir, 'p.sqlite'));
    for (let i = 0; i < 250; i++) await store.claimOnce('n', `id${i}`, NOW + 1, NOW);
    const count = () => (store.db.prepare('SELECT count(*) AS n FROM replay_claims').get() as { n: number }).n;
    expect(count()).toBe(250);
    await store.claimOnce('n', 'fresh', NOW + 60_000, NOW + 10);
    expect(count()).toBe(151);
    await store.close();
  });

  it('stores a client\'s jwks, jwks_uri and require_dpop, one kind of key at a time', async () => {
    const store = SqliteStore.open(join(dir.dir, 'c.sqlite'));
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] };
    const created = await store.createClient(
      { id: 'c1', name: 'c', scopes: [], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: null, keys: { jwks }, requireDpop: true },
      NOW,
    );
    expect(created).toMatchObject({ jwks, jwksUri: null, requireDpop: true, secrets: [] });
    const moved = await store.updateClient('c1', { keys: { jwksUri: 'https://c.example/jwks' } }, NOW);
    expect(moved).toMatchObject({ jwks: null, jwksUri: 'https://c.example/jwks', requireDpop: true });
    const untouched = await store.updateClient('c1', { name: 'renamed', requireDpop: false }, NOW);
    expect(untouched).toMatchObject({ jwksUri: 'https://c.example/jwks', requireDpop: false });
    expect(await store.updateClient('c1', { keys: null }, NOW)).toMatchObject({ jwks: null, jwksUri: null });
    await store.close();
  });
});

describe('MemoryClaims', () => {
  it('accepts an id once until it expires, and stays within its bound', async () => {
    const claims = new MemoryClaims(2);
    expect(await claims.claimOnce('n', 'a', NOW + 10, NOW)).toBe(true);
    expect(await claims.claimOnce('n', 'a', NOW + 10, NOW)).toBe(false);
    expect(await claims.claimOnce('n', 'a', NOW + 20, NOW + 10)).toBe(true);
    await claims.claimOnce('n', 'b', NOW + 10, NOW);
    await claims.claimOnce('n', 'c', NOW + 10, NOW);
    expect(claims.size).toBe(2);
  });
});
