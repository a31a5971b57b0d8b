// The store contract, run with the same assertions against every store (SQLite, PostgreSQL): CRUD, groups, secrets, keys, revocations, reference tokens, atomic changes and two writers at once.
import { StoreError, type NewClient, type Store, type StoreChange } from '../../lib/store';
import { generateSigningKey } from '../../lib/core/tokens/keys';
import { STORE_HARNESSES, type StoreFixture } from '../support/stores';

const NOW = Date.UTC(2026, 0, 1);

function newClient(id = 'c1', secretHash: string | null = '$2b$04$hash', scopes: string[] = ['read']): NewClient {
  return { id, name: id, scopes, audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash };
}

describe.each(STORE_HARNESSES.map((h) => [h.name, h] as const))('%s store (contract)', (_name, harness) => {
  const available = harness.available;
  const test = available ? it : it.skip;
  let fx: StoreFixture;
  let store: Store;
  beforeEach(async () => {
    if (!available) return;
    fx = await harness.fresh();
    store = fx.store;
  });
  afterEach(async () => {
    if (available) await fx.cleanup();
  });

  describe('clients', () => {
    test('creates and reads a client with its secret, and lists clients in creation order', async () => {
      const created = await store.createClient(newClient('c1'), NOW);
      await store.createClient(newClient('c0', null), NOW + 1);
      expect(created).toMatchObject({
        id: 'c1',
        scopes: ['read'],
        effectiveScopes: ['read'],
        groups: [],
        enabled: true,
        version: 1,
        tokensNotBefore: 0,
        createdAt: NOW,
        secrets: [{ hash: '$2b$04$hash', createdAt: NOW, expiresAt: null }],
      });
      expect(await store.getClient('c1')).toEqual(created);
      expect((await store.getClient('c0'))?.secrets).toEqual([]);
      expect((await store.listClients()).map((c) => c.id)).toEqual(['c1', 'c0']);
      expect(await store.getClient('nope')).toBeUndefined();
    });

    test('maps a duplicate id to a conflict StoreError and changes nothing', async () => {
      await store.createClient(newClient('c1', 'h1'), NOW);
      const err = await store.createClient(newClient('c1', 'h2'), NOW).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'conflict' });
      expect((await store.getClient('c1'))?.secrets.map((s) => s.hash)).toEqual(['h1']);
    });

    test('wraps a multi-statement change in a transaction: a failure leaves nothing behind', async () => {
      await fx.sabotageSecretInserts();
      // toMatchObject, not toThrow: better-sqlite3's native error class may come from another jest module registry.
      await expect(store.createClient(newClient(), NOW)).rejects.toMatchObject({ message: expect.stringContaining('refused') });
      expect(await store.getClient('c1')).toBeUndefined();
      expect(await store.listClients()).toEqual([]);
    });

    test('updates only the given fields, moves the version, and never moves tokensNotBefore back', async () => {
      await store.createClient(newClient(), NOW);
      const updated = await store.updateClient('c1', { enabled: false, scopes: ['a', 'b'] }, NOW + 5);
      expect(updated).toMatchObject({ name: 'c1', enabled: false, scopes: ['a', 'b'], version: 2, updatedAt: NOW + 5 });
      expect(await store.updateClient('nope', { enabled: false }, NOW)).toBeUndefined();
      await store.rotateSecret('c1', { hash: 'h2', previousValidUntil: null, revokeTokensIssuedBefore: NOW + 100 }, NOW + 100);
      await store.rotateSecret('c1', { hash: 'h3', previousValidUntil: null, revokeTokensIssuedBefore: NOW + 50 }, NOW + 200);
      expect((await store.getClient('c1'))?.tokensNotBefore).toBe(NOW + 100);
      expect(await store.listClientStatuses()).toEqual([{ id: 'c1', enabled: false, tokensNotBefore: NOW + 100 }]);
    });

    test('keeps at most two secrets through any number of rotations', async () => {
      await store.createClient(newClient('c1', 'h0'), NOW);
      for (let i = 1; i <= 4; i++) {
        const client = await store.rotateSecret('c1', { hash: `h${i}`, previousValidUntil: NOW + i * 60_000 + 3_600_000 }, NOW + i * 60_000);
        expect(client?.secrets.map((s) => s.hash)).toEqual([`h${i}`, `h${i - 1}`]);
      }
      const cut = await store.rotateSecret('c1', { hash: 'h5', previousValidUntil: null }, NOW + 600_000);
      expect(cut?.secrets.map((s) => s.hash)).toEqual(['h5']);
      expect(await store.rotateSecret('nope', { hash: 'x', previousValidUntil: null }, NOW)).toBeUndefined();
    });

    test('rotates a secret only at the expected version (RFC 9110 §13.1.1 If-Match), else rejects with a stale StoreError and keeps the secret', async () => {
      const { version } = await store.createClient(newClient('c1', 'h0'), NOW);
      const stale = store.rotateSecret('c1', { hash: 'h1', previousValidUntil: null, expectedVersion: version + 1 }, NOW + 1);
      await expect(stale).rejects.toMatchObject({ name: 'StoreError', code: 'stale' });
      expect(await store.getClient('c1')).toMatchObject({ version, secrets: [{ hash: 'h0' }] });
      const rotated = await store.rotateSecret('c1', { hash: 'h1', previousValidUntil: null, expectedVersion: version }, NOW + 1);
      expect(rotated).toMatchObject({ version: version + 1, secrets: [{ hash: 'h1' }] });
      expect(await store.rotateSecret('nope', { hash: 'x', previousValidUntil: null, expectedVersion: 1 }, NOW)).toBeUndefined();
    });

    test('deletes a client with its secrets and memberships; a new client of that id starts clean', async () => {
      await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
      await store.createClient(newClient('c1', 'old'), NOW);
      await store.addClientToGroup('c1', 'g', NOW);
      expect(await store.deleteClient('c1')).toBe(true);
      expect(await store.deleteClient('c1')).toBe(false);
      expect((await store.getGroup('g'))?.members).toEqual([]);
      const again = await store.createClient(newClient('c1', 'new'), NOW);
      expect(again.secrets.map((s) => s.hash)).toEqual(['new']);
      expect(again.groups).toEqual([]);
    });

    test('creates a client with its groups in one transaction: an unknown group creates nothing (not_found)', async () => {
      await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
      const err = await store.createClient({ ...newClient('c1'), groups: ['g', 'nope'] }, NOW).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'not_found' });
      expect(await store.getClient('c1')).toBeUndefined();
      const created = await store.createClient({ ...newClient('c1'), groups: ['g', 'g'] }, NOW);
      expect(created).toMatchObject({ groups: ['g'], effectiveScopes: ['read', 'a'] });
    });

    test('applies every field of one update in one transaction: all of it, or nothing for an unknown group', async () => {
      await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
      await store.createClient(newClient('c1'), NOW);
      const refused = await store.updateClient('c1', { enabled: false, groups: ['nope'] }, NOW + 1).catch((e: unknown) => e);
      expect(refused).toMatchObject({ name: 'StoreError', code: 'not_found' });
      expect(await store.getClient('c1')).toMatchObject({ enabled: true, groups: [], version: 1 });
      const updated = await store.updateClient('c1', { enabled: false, groups: ['g'], revokeTokensIssuedBefore: NOW + 2 }, NOW + 2);
      expect(updated).toMatchObject({ enabled: false, groups: ['g'], tokensNotBefore: NOW + 2, version: 2 });
      expect(await store.updateClient('nope', { groups: ['g'] }, NOW)).toBeUndefined();
    });

    test('keeps a client\'s public keys (inline or by URI, never both) and its DPoP requirement (RFC 7523 §2.2, RFC 9449 §5.2)', async () => {
      const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] };
      const created = await store.createClient({ ...newClient('c1', null), keys: { jwks } as never, requireDpop: true }, NOW);
      expect(created).toMatchObject({ jwks, jwksUri: null, requireDpop: true });
      const moved = await store.updateClient('c1', { keys: { jwksUri: 'https://c1.example/jwks' } }, NOW + 1);
      expect(moved).toMatchObject({ jwks: null, jwksUri: 'https://c1.example/jwks', requireDpop: true });
      const cleared = await store.updateClient('c1', { keys: null, requireDpop: false }, NOW + 2);
      expect(cleared).toMatchObject({ jwks: null, jwksUri: null, requireDpop: false });
      expect(await store.getClient('c1')).toEqual(cleared);
    });

    test('bumps the revision other instances poll on every change', async () => {
      const before = await store.revision();
      await store.createClient(newClient(), NOW);
      const afterCreate = await store.revision();
      expect(afterCreate).toBeGreaterThan(before);
      await store.updateClient('c1', { enabled: false }, NOW);
      expect(await store.revision()).toBeGreaterThan(afterCreate);
    });
  });

  describe('groups', () => {
    const addClient = (id: string, scopes: string[] = ['read']) => store.createClient(newClient(id, 'h', scopes), NOW);

    test('creates, reads and lists groups with their members', async () => {
      await store.createGroup({ name: 'billing', scopes: ['invoices:read'], audiences: ['https://billing.internal'] }, NOW);
      await store.createGroup({ name: 'audit', scopes: [], audiences: [] }, NOW + 1);
      await addClient('c1');
      await store.addClientToGroup('c1', 'billing', NOW);
      expect(await store.getGroup('billing')).toEqual({
        name: 'billing',
        scopes: ['invoices:read'],
        audiences: ['https://billing.internal'],
        members: ['c1'],
        // 1 at creation, 2 once c1 joined
        version: 2,
        createdAt: NOW,
        updatedAt: NOW,
      });
      expect((await store.listGroups()).map((g) => g.name)).toEqual(['audit', 'billing']);
      expect(await store.getGroup('nope')).toBeUndefined();
    });

    test('rejects a second group of the same name with a conflict StoreError', async () => {
      await store.createGroup({ name: 'billing', scopes: [], audiences: [] }, NOW);
      const err = await store.createGroup({ name: 'billing', scopes: ['x'], audiences: [] }, NOW).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('conflict');
      expect((await store.getGroup('billing'))?.scopes).toEqual([]);
    });

    test('gives a member the union of its own and its groups\' scopes and audiences', async () => {
      await store.createGroup({ name: 'g1', scopes: ['a', 'read'], audiences: ['x'] }, NOW);
      await store.createGroup({ name: 'g2', scopes: ['b'], audiences: ['y'] }, NOW);
      await addClient('c1', ['read']);
      const client = await store.setClientGroups('c1', ['g2', 'g1', 'g2'], NOW);
      expect(client?.groups).toEqual(['g1', 'g2']);
      expect(client?.scopes).toEqual(['read']);
      expect(client?.effectiveScopes).toEqual(['read', 'a', 'b']);
      expect(client?.effectiveAudiences).toEqual(['x', 'y']);
    });

    test('refuses to delete a group that has members unless forced, then drops the memberships', async () => {
      await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
      await addClient('c1');
      await store.addClientToGroup('c1', 'g', NOW);
      const err = await store.deleteGroup('g', { force: false }).catch((e: unknown) => e);
      expect((err as StoreError).code).toBe('conflict');
      expect(await store.getGroup('g')).toBeDefined();
      expect(await store.deleteGroup('g', { force: true })).toBe(true);
      expect(await store.getGroup('g')).toBeUndefined();
      expect((await store.getClient('c1'))?.groups).toEqual([]);
      expect(await store.deleteGroup('g', { force: true })).toBe(false);
    });

    test('resolves undefined when a membership names an unknown client or group, changing nothing', async () => {
      await store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW);
      await addClient('c1');
      expect(await store.addClientToGroup('nobody', 'g', NOW)).toBeUndefined();
      expect(await store.addClientToGroup('c1', 'nope', NOW)).toBeUndefined();
      expect(await store.removeClientFromGroup('nobody', 'g', NOW)).toBeUndefined();
      await store.addClientToGroup('c1', 'g', NOW);
      expect(await store.setClientGroups('c1', ['nope'], NOW)).toBeUndefined();
      expect((await store.getClient('c1'))?.groups).toEqual(['g']);
    });

    test('moves a client\'s version on every change to its groups, so version-keyed caches drop it', async () => {
      await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
      await store.createGroup({ name: 'other', scopes: ['b'], audiences: [] }, NOW);
      await addClient('c1');
      await addClient('c2');
      const v0 = (await store.getClient('c1'))!.version;
      const v1 = (await store.addClientToGroup('c1', 'g', NOW))!.version;
      expect(v1).toBeGreaterThan(v0);
      expect((await store.addClientToGroup('c1', 'g', NOW))!.version).toBe(v1); // already a member: no-op
      await store.updateGroup('g', { scopes: ['a', 'c'] }, NOW);
      const v2 = (await store.getClient('c1'))!.version;
      expect(v2).toBeGreaterThan(v1);
      const c2Before = (await store.getClient('c2'))!.version;
      await store.updateGroup('other', { scopes: ['d'] }, NOW);
      expect((await store.getClient('c2'))!.version).toBe(c2Before);
      const v3 = (await store.removeClientFromGroup('c1', 'g', NOW))!.version;
      expect(v3).toBeGreaterThan(v2);
      await store.addClientToGroup('c1', 'g', NOW);
      const v4 = (await store.getClient('c1'))!.version;
      await store.deleteGroup('g', { force: true });
      expect((await store.getClient('c1'))!.version).toBeGreaterThan(v4);
    });

    test('moves a group\'s version on every change to its scopes, audiences or members, and only then', async () => {
      await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
      await store.createGroup({ name: 'other', scopes: [], audiences: [] }, NOW);
      await addClient('c1');
      await addClient('c2');
      const versions = [(await store.getGroup('g'))!.version];
      const step = async (change: () => Promise<unknown>) => {
        await change();
        versions.push((await store.getGroup('g'))!.version);
      };
      await step(() => store.updateGroup('g', { scopes: ['a', 'b'] }, NOW));
      await step(() => store.updateGroup('g', { audiences: ['https://api.example'] }, NOW));
      await step(() => store.addClientToGroup('c1', 'g', NOW));
      await step(() => store.removeClientFromGroup('c1', 'g', NOW));
      await step(() => store.setClientGroups('c1', ['g'], NOW));
      await step(() => store.updateClient('c2', { groups: ['g'] }, NOW));
      await step(() => store.deleteClient('c2'));
      for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1] as number);
      const last = versions[versions.length - 1];
      // Changes elsewhere leave it alone.
      await store.updateGroup('other', { scopes: ['x'] }, NOW);
      await store.addClientToGroup('c1', 'other', NOW);
      await store.updateClient('c1', { name: 'renamed' }, NOW);
      expect((await store.getGroup('g'))!.version).toBe(last);
    });

    test('changes a group only at the expected version (RFC 9110 §13.1.1 If-Match), else rejects with a stale StoreError and changes nothing', async () => {
      await store.createGroup({ name: 'g', scopes: ['a'], audiences: [] }, NOW);
      const { version } = (await store.getGroup('g'))!;
      const stale = await store.updateGroup('g', { scopes: ['b'], expectedVersion: version + 1 }, NOW + 1).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(StoreError);
      expect(stale).toMatchObject({ code: 'stale' });
      expect(await store.getGroup('g')).toMatchObject({ scopes: ['a'], version, updatedAt: NOW });
      const updated = await store.updateGroup('g', { scopes: ['b'], expectedVersion: version }, NOW + 1);
      expect(updated).toMatchObject({ scopes: ['b'], version: version + 1 });
      expect(await store.updateGroup('nope', { scopes: ['b'], expectedVersion: 1 }, NOW)).toBeUndefined();
    });

    test('deletes a group only at the expected version, else rejects with a stale StoreError and keeps it', async () => {
      await store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW);
      const { version } = (await store.getGroup('g'))!;
      await expect(store.deleteGroup('g', { force: false, expectedVersion: version - 1 })).rejects.toMatchObject({ name: 'StoreError', code: 'stale' });
      expect(await store.getGroup('g')).toBeDefined();
      expect(await store.deleteGroup('g', { force: false, expectedVersion: version })).toBe(true);
      expect(await store.getGroup('g')).toBeUndefined();
      expect(await store.deleteGroup('g', { force: false, expectedVersion: version })).toBe(false);
    });

    test('changes a membership only at the client\'s expected version, else rejects with a stale StoreError and changes nothing', async () => {
      await store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW);
      const { version } = await addClient('c1');
      await expect(store.addClientToGroup('c1', 'g', NOW, { expectedVersion: version + 1 })).rejects.toMatchObject({ code: 'stale' });
      expect(await store.getClient('c1')).toMatchObject({ groups: [], version });
      const joined = await store.addClientToGroup('c1', 'g', NOW, { expectedVersion: version });
      expect(joined).toMatchObject({ groups: ['g'], version: version + 1 });
      await expect(store.removeClientFromGroup('c1', 'g', NOW, { expectedVersion: version })).rejects.toMatchObject({ code: 'stale' });
      expect((await store.getClient('c1'))?.groups).toEqual(['g']);
      expect(await store.removeClientFromGroup('c1', 'g', NOW, { expectedVersion: version + 1 })).toMatchObject({ groups: [] });
      expect(await store.addClientToGroup('nope', 'g', NOW, { expectedVersion: 1 })).toBeUndefined();
    });

    test('moves the revision counter on every group and membership change', async () => {
      await addClient('c1');
      const revisions = [await store.revision()];
      const step = async (change: () => Promise<unknown>) => {
        await change();
        revisions.push(await store.revision());
      };
      await step(() => store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW));
      await step(() => store.updateGroup('g', { audiences: ['x'] }, NOW));
      await step(() => store.addClientToGroup('c1', 'g', NOW));
      await step(() => store.removeClientFromGroup('c1', 'g', NOW));
      await step(() => store.setClientGroups('c1', ['g'], NOW));
      await step(() => store.deleteGroup('g', { force: true }));
      for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1] as number);
    });

    test('tells in-process listeners as soon as each change has committed', async () => {
      const seen: StoreChange[] = [];
      store.onChange((change) => seen.push(change));
      const counts: number[] = [];
      await store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW);
      counts.push(seen.length);
      await store.updateGroup('g', { scopes: ['a'] }, NOW);
      counts.push(seen.length);
      await store.deleteGroup('g', { force: false });
      counts.push(seen.length);
      expect(counts[0]).toBeGreaterThanOrEqual(1);
      expect(counts[1]).toBeGreaterThan(counts[0] as number);
      expect(counts[2]).toBeGreaterThan(counts[1] as number);
    });
  });

  describe('signing keys', () => {
    test('keeps one active key when two instances ensure one at once, and both get it', async () => {
      const other = await fx.openAnother();
      const [a, b] = await Promise.all([
        store.ensureSigningKey(await generateSigningKey('ES256', NOW)),
        other.ensureSigningKey(await generateSigningKey('ES256', NOW)),
      ]);
      expect(a.kid).toBe(b.kid);
      const keys = await store.listSigningKeys(NOW);
      expect(keys.filter((k) => k.active).map((k) => k.kid)).toEqual([a.kid]);
      expect(keys).toHaveLength(1);
    });

    test('rotates once when two instances rotate from the same active key at once (compare-and-swap)', async () => {
      const first = await store.ensureSigningKey(await generateSigningKey('ES256', NOW));
      const other = await fx.openAnother();
      const retireAt = NOW + 3_600_000;
      const results = await Promise.all([
        store.rotateSigningKey(await generateSigningKey('ES256', NOW + 1), first.kid, retireAt),
        other.rotateSigningKey(await generateSigningKey('ES256', NOW + 2), first.kid, retireAt),
      ]);
      expect(results.filter((r) => r.rotated)).toHaveLength(1);
      expect(results[0]?.active.kid).toBe(results[1]?.active.kid);
      const keys = await store.listSigningKeys(NOW);
      expect(keys.map((k) => [k.kid, k.active, k.retireAt])).toEqual([
        [results[0]?.active.kid, true, null],
        [first.kid, false, retireAt],
      ]);
      // Past retire_at the old key is no longer listed.
      expect((await store.listSigningKeys(retireAt)).map((k) => k.kid)).toEqual([results[0]?.active.kid]);
      // A stale expectation rotates nothing.
      const stale = await store.rotateSigningKey(await generateSigningKey('ES256', NOW), first.kid, retireAt);
      expect(stale).toMatchObject({ rotated: false, active: { kid: results[0]?.active.kid } });
    });

    test('drops the private half of the key that stops signing, and deletes keys no longer published, on rotation', async () => {
      const first = await store.ensureSigningKey(await generateSigningKey('ES256', NOW));
      const second = await store.rotateSigningKey(await generateSigningKey('ES256', NOW + 1000), first.kid, NOW + 5000);
      const keys = await store.listSigningKeys(NOW + 1000);
      expect(keys.map((k) => [k.kid, k.active, k.privateKeyPem === null])).toEqual([
        [second.active.kid, true, false],
        [first.kid, false, true],
      ]);
      // The next rotation, after the first key's retireAt, removes it for good.
      const third = await store.rotateSigningKey(await generateSigningKey('ES256', NOW + 6000), second.active.kid, NOW + 9000);
      expect((await store.listSigningKeys(0)).map((k) => k.kid)).toEqual([third.active.kid, second.active.kid]);
    });

    test('deletes only an inactive key, and reseals a private key only while it still holds the expected value', async () => {
      const first = await store.ensureSigningKey(await generateSigningKey('ES256', NOW));
      await store.rotateSigningKey(await generateSigningKey('ES256', NOW + 1), first.kid, NOW + 60_000);
      const active = (await store.listSigningKeys(NOW)).find((k) => k.active)!;
      expect(await store.deleteSigningKey(active.kid)).toBe(false);
      expect(await store.deleteSigningKey('nope')).toBe(false);
      expect(await store.resealSigningKeys([{ kid: active.kid, from: 'not what is stored', to: 'sealed' }])).toBe(0);
      expect(await store.resealSigningKeys([{ kid: active.kid, from: active.privateKeyPem as string, to: 'sealed:abc' }])).toBe(1);
      expect((await store.listSigningKeys(NOW)).find((k) => k.active)?.privateKeyPem).toBe('sealed:abc');
      expect(await store.deleteSigningKey(first.kid)).toBe(true);
      expect((await store.listSigningKeys(NOW)).map((k) => k.kid)).toEqual([active.kid]);
    });

    test('publishes one next key, even when two instances publish at once; none for an active key that changed (compare-and-set)', async () => {
      const active = await store.ensureSigningKey(await generateSigningKey('ES256', NOW));
      const other = await fx.openAnother();
      const revision = await store.revision();
      const [a, b] = await Promise.all([
        store.publishNextSigningKey({ ...(await generateSigningKey('ES256', NOW + 1)), activateAt: NOW + 600_000 }, active.kid),
        other.publishNextSigningKey({ ...(await generateSigningKey('ES256', NOW + 2)), activateAt: NOW + 900_000 }, active.kid),
      ]);
      expect([a.published, b.published].filter(Boolean)).toHaveLength(1);
      expect(a.next?.kid).toBe(b.next?.kid);
      expect(await store.revision()).toBeGreaterThan(revision);
      const next = a.next!;
      await store.deleteSigningKey(next.kid);
      const late = { ...(await generateSigningKey('ES256', NOW + 3)), activateAt: NOW + 700_000 };
      expect(await store.publishNextSigningKey(late, 'another-kid')).toEqual({ next: undefined, published: false });
      await store.publishNextSigningKey(late, active.kid);
      expect((await store.listSigningKeys(NOW)).map((k) => [k.kid, k.active, k.activateAt ?? null])).toEqual([
        [active.kid, true, null],
        [late.kid, false, NOW + 700_000],
      ]);
    });

    test('promotes the next key once when two instances promote at once; the previous key keeps only its public half', async () => {
      const active = await store.ensureSigningKey(await generateSigningKey('ES256', NOW));
      const next = { ...(await generateSigningKey('ES256', NOW + 1)), activateAt: NOW + 600_000 };
      await store.publishNextSigningKey(next, active.kid);
      const later = NOW + 700_000;
      expect(await store.promoteNextSigningKey(next.kid, 'stale-kid', later + 1, later)).toMatchObject({ active: { kid: active.kid }, rotated: false });
      expect(await store.promoteNextSigningKey('not-the-next', active.kid, later + 1, later)).toMatchObject({ rotated: false });
      const other = await fx.openAnother();
      const results = await Promise.all([
        store.promoteNextSigningKey(next.kid, active.kid, later + 3_600_000, later),
        other.promoteNextSigningKey(next.kid, active.kid, later + 3_600_000, later),
      ]);
      expect(results.filter((r) => r.rotated)).toHaveLength(1);
      expect(results.find((r) => r.rotated)?.active).toMatchObject({ kid: next.kid, active: true, activateAt: NOW + 600_000 });
      expect((await store.listSigningKeys(later)).map((k) => [k.kid, k.active, k.privateKeyPem === null, k.retireAt])).toEqual([
        [next.kid, true, false, null],
        [active.kid, false, true, later + 3_600_000],
      ]);
    });

    test('stores a key exactly as given', async () => {
      const candidate = await generateSigningKey('ES256', NOW);
      await store.ensureSigningKey(candidate);
      expect(await store.listSigningKeys(NOW)).toEqual([{ ...candidate, active: true, retireAt: null, activateAt: null }]);
    });
  });

  describe('revocations and reference tokens', () => {
    test('records a revocation once, even when two instances revoke the same jti at once', async () => {
      const other = await fx.openAnother();
      const token = { jti: 'j1', clientId: 'c1', expiresAt: NOW + 60_000 };
      const results = await Promise.all([store.revokeToken(token, NOW), other.revokeToken(token, NOW), store.revokeToken(token, NOW)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      await store.revokeToken({ jti: 'old', clientId: 'c1', expiresAt: NOW - 1 }, NOW);
      expect(await store.listRevokedTokens(NOW)).toEqual([token]);
      expect(await store.listRevokedTokens(NOW + 60_000)).toEqual([]);
    });

    test('finds an unexpired reference token by its hash, and nothing once it expired', async () => {
      await store.createClient(newClient(), NOW);
      const claims = { iss: 'https://auth.test', sub: 'c1', client_id: 'c1', aud: 'x', scope: 'read', jti: 'j', iat: 1, exp: 2 };
      const token = { tokenHash: 'hash1', jti: 'j', clientId: 'c1', claims, expiresAt: NOW + 1000 };
      await store.saveReferenceToken(token as never, NOW);
      expect(await store.findReferenceToken('hash1', NOW)).toEqual(token);
      expect(await store.findReferenceToken('hash1', NOW + 1000)).toBeUndefined();
      expect(await store.findReferenceToken('other', NOW)).toBeUndefined();
    });
  });

  describe('settings', () => {
    test('keeps the first bcrypt cost stored, whichever instance asks first and whatever it proposes later', async () => {
      const other = await fx.openAnother();
      const [a, b] = await Promise.all([store.bcryptCost(12), other.bcryptCost(11)]);
      expect(a).toBe(b);
      expect([11, 12]).toContain(a);
      expect(await store.bcryptCost(4)).toBe(a);
    });
  });

  describe('readiness', () => {
    test('answers ping() while open, and rejects with a StoreError once closed', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreError);
    });
  });

  describe('two writers', () => {
    test('lets exactly one of two instances create the same client id', async () => {
      const other = await fx.openAnother();
      const results = await Promise.allSettled([store.createClient(newClient('c1', 'a'), NOW), other.createClient(newClient('c1', 'b'), NOW)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ name: 'StoreError', code: 'conflict' });
    });

    test('keeps at most two secrets when two instances rotate one client at once', async () => {
      await store.createClient(newClient('c1', 'h0'), NOW);
      const other = await fx.openAnother();
      const until = NOW + 3_600_000;
      await Promise.all([
        store.rotateSecret('c1', { hash: 'a', previousValidUntil: until }, NOW + 1),
        other.rotateSecret('c1', { hash: 'b', previousValidUntil: until }, NOW + 2),
        store.rotateSecret('c1', { hash: 'c', previousValidUntil: until }, NOW + 3),
      ]);
      const secrets = (await store.getClient('c1'))!.secrets;
      expect(secrets).toHaveLength(2);
      expect(secrets.filter((s) => s.expiresAt === null)).toHaveLength(1);
      expect((await store.getClient('c1'))!.version).toBe(4);
    });

    test('never leaves a member in a group deleted at the same time as it joined', async () => {
      await store.createGroup({ name: 'g', scopes: [], audiences: [] }, NOW);
      await store.createClient(newClient('c1'), NOW);
      const other = await fx.openAnother();
      const [added, deleted] = await Promise.allSettled([store.addClientToGroup('c1', 'g', NOW), other.deleteGroup('g', { force: false })]);
      const group = await store.getGroup('g');
      const client = await store.getClient('c1');
      if (deleted.status === 'fulfilled' && deleted.value) {
        expect(group).toBeUndefined();
        expect(client?.groups).toEqual([]);
      } else {
        expect(deleted).toMatchObject({ status: 'rejected', reason: { code: 'conflict' } });
        expect(added).toMatchObject({ status: 'fulfilled' });
        expect(group?.members).toEqual(['c1']);
      }
    });
  });
});
