// What only the PostgreSQL store does: migrations under an advisory lock (ten instances at once), a newer schema refused, bounded cleanup, NOTIFY deltas, a listener that reconnects and re-reads.
import { PostgresStore } from '../../lib/store/postgres';
import { StoreError, type StoreChange } from '../../lib/store';
import { PG_MIGRATIONS, migratePostgres } from '../../lib/store/postgres/migrations';
import { PG_URL, freshSchema, openPgStore, pgAvailable } from '../support/stores';

const available = pgAvailable();
const describePg = available ? describe : describe.skip;
const NOW = Date.UTC(2026, 0, 1);

/** Resolves once `predicate` holds, checking each time `store` announces a change; fails after `limitMs` (a bound, not a timed assertion). */
function changeSeen(store: PostgresStore, predicate: (change: StoreChange) => boolean, limitMs = 10_000): Promise<StoreChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('no matching change announced'));
    }, limitMs);
    const unsubscribe = store.onChange((change) => {
      if (!predicate(change)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(change);
    });
  });
}

describePg('PostgreSQL store', () => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  const opened: PostgresStore[] = [];
  const open = (options: Parameters<typeof openPgStore>[1] = {}) => {
    const store = openPgStore(db.schema, options);
    opened.push(store);
    return store;
  };
  beforeEach(async () => {
    db = await freshSchema();
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await db.drop();
  });

  describe('listing clients', () => {
    it('reads a page through the index on the id in byte order, never the whole table (keyset pagination, migration 3)', async () => {
      const store = open();
      await store.ready();
      // Enough clients that a scan and a sort would cost the planner more than the index.
      await db.admin.query(`INSERT INTO ${db.schema}.clients (id, name, scopes, audiences, created_at, updated_at)
        SELECT lpad(to_hex(i), 32, '0'), 'client ' || i, 'read', '', 0, 0 FROM generate_series(0, 19999) i`);
      await db.admin.query(`ANALYZE ${db.schema}.clients`);
      // The statements the store sends for two pages, to ask PostgreSQL how it runs each.
      const sent: { text: string; values: unknown[] }[] = [];
      const queries = store as unknown as { query: (text: string, values: unknown[]) => Promise<unknown> };
      const original = queries.query.bind(store);
      const query = jest.spyOn(queries, 'query').mockImplementation((text, values) => {
        sent.push({ text, values });
        return original(text, values);
      });
      const first = await store.listClientsPage({ limit: 500 });
      const later = await store.listClientsPage({ after: (15_000).toString(16).padStart(32, '0'), limit: 500 });
      query.mockRestore();
      expect(first.clients).toHaveLength(500);
      expect(later.clients[0]?.id).toBe((15_001).toString(16).padStart(32, '0'));
      const client = await db.admin.connect();
      try {
        await client.query(`SET search_path TO ${db.schema}`);
        for (const { text, values } of sent) {
          const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
          expect(plan).toContain('clients_id_bytes');
          expect(plan).not.toMatch(/Seq Scan on clients/);
        }
      } finally {
        client.release();
      }
    });
  });

  describe('migrations', () => {
    it('applies each migration once when ten instances open a fresh schema at once (advisory lock)', async () => {
      const stores = Array.from({ length: 10 }, () => open({ poolSize: 2 }));
      await Promise.all(stores.map((s) => s.ready()));
      const { rows } = await db.admin.query(`SELECT version FROM ${db.schema}.schema_migrations ORDER BY version`);
      expect(rows.map((r: { version: number }) => r.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
      // Every instance works on the one schema.
      await stores[3]!.createClient({ id: 'c1', name: 'c', scopes: [], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: 'h' }, NOW);
      expect((await stores[7]!.getClient('c1'))?.id).toBe('c1');
    });

    it('refuses at start-up a schema written by a newer version, changing nothing', async () => {
      await open().ready();
      await db.admin.query(`INSERT INTO ${db.schema}.schema_migrations (version) VALUES (${PG_MIGRATIONS.length + 1})`);
      const store = open();
      const err = await store.ready().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({
        code: 'schema',
        message: `database schema version ${PG_MIGRATIONS.length + 1} (schema "${db.schema}") is newer than this library understands (${PG_MIGRATIONS.length})`,
      });
      // Every call fails the same way; nothing was applied.
      await expect(store.listClients()).rejects.toMatchObject({ code: 'schema' });
      const { rows } = await db.admin.query(`SELECT count(*)::int AS n FROM ${db.schema}.schema_migrations`);
      expect(rows[0].n).toBe(PG_MIGRATIONS.length + 1);
    });

    it('refuses a search_path that names no schema with a schema StoreError', async () => {
      const store = PostgresStore.open(PG_URL as string, { schema: `${db.schema}_missing` });
      opened.push(store);
      await expect(store.ready()).rejects.toMatchObject({ name: 'StoreError', code: 'schema' });
    });

    it('migrates a schema 1 database: its groups start at version 1 and move with their members from then on', async () => {
      const client = await db.admin.connect();
      try {
        await client.query(`SET search_path = ${db.schema}`);
        await migratePostgres(client, PG_MIGRATIONS.slice(0, 1));
        await client.query(`INSERT INTO clients (id, name, created_at, updated_at) VALUES ('c1', 'c1', ${NOW}, ${NOW}), ('c2', 'c2', ${NOW}, ${NOW})`);
        await client.query(`INSERT INTO groups (name, scopes, created_at, updated_at) VALUES ('g', 'a', ${NOW}, ${NOW})`);
        await client.query(`INSERT INTO client_groups (client_id, group_name) VALUES ('c1', 'g')`);
      } finally {
        client.release();
      }
      const store = open();
      await store.ready();
      expect(await store.getGroup('g')).toMatchObject({ members: ['c1'], scopes: ['a'], version: 1 });
      await store.addClientToGroup('c2', 'g', NOW);
      expect(await store.getGroup('g')).toMatchObject({ members: ['c1', 'c2'], version: 2 });
    });

    it('applies only the migrations a schema lacks, in order, recording each', async () => {
      const client = await db.admin.connect();
      try {
        await client.query(`SET search_path = ${db.schema}`);
        expect(await migratePostgres(client, ['CREATE TABLE a (x int)'])).toBe(0);
        expect(await migratePostgres(client, ['CREATE TABLE a (x int)', 'CREATE TABLE b (y int)'])).toBe(1);
        const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
        expect(rows.map((r: { version: number }) => r.version)).toEqual([1, 2]);
      } finally {
        client.release();
      }
    });
  });

  describe('cleanup', () => {
    it('deletes expired revocations and reference tokens in bounded batches, keeping live ones', async () => {
      const store = open({ cleanupBatchSize: 100 });
      await store.ready();
      await db.admin.query(
        `INSERT INTO ${db.schema}.revoked_tokens (jti, client_id, expires_at) SELECT 'old' || i, 'c', $1 FROM generate_series(1, 1500) i`,
        [NOW - 1],
      );
      await store.revokeToken({ jti: 'live', clientId: 'c', expiresAt: NOW + 60_000 }, NOW);
      // At most ten batches of 100 per table per run: 1000 of the 1500 go now, the rest next run.
      expect(await store.purgeExpired(NOW)).toBe(1000);
      expect(await store.purgeExpired(NOW)).toBe(500);
      expect(await store.purgeExpired(NOW)).toBe(0);
      expect((await store.listRevokedTokens(NOW)).map((r) => r.jti)).toEqual(['live']);
      const { rows } = await db.admin.query(`SELECT count(*)::int AS n FROM ${db.schema}.revoked_tokens`);
      expect(rows[0].n).toBe(1);
    });

    it('finds expired rows through the expiry index, not by reading the whole table', async () => {
      const store = open();
      await store.ready();
      await db.admin.query(`SET enable_seqscan = off`);
      const { rows } = await db.admin.query(
        `EXPLAIN SELECT ctid FROM ${db.schema}.revoked_tokens WHERE expires_at <= ${NOW} LIMIT 1000`,
      );
      expect(rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n')).toMatch(/revoked_tokens_by_expiry/);
    });
  });

  describe('one-time claims', () => {
    it('lets exactly one of several instances claim a jti, and the claim again only once it expired (RFC 7523 §3, RFC 9449 §11.1)', async () => {
      const stores = [open(), open(), open()];
      await Promise.all(stores.map((st) => st.ready()));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => stores[i % 3]!.claimOnce('dpop', 'jti-1', NOW + 1000, NOW)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await stores[0]!.claimOnce('client_assertion', 'jti-1', NOW + 1000, NOW)).toBe(true); // another namespace
      expect(await stores[1]!.claimOnce('dpop', 'jti-1', NOW + 2000, NOW + 999)).toBe(false);
      expect(await stores[1]!.claimOnce('dpop', 'jti-1', NOW + 3000, NOW + 1000)).toBe(true);
      await db.admin.query(
        `INSERT INTO ${db.schema}.replay_claims (namespace, id, expires_at) SELECT 'dpop', 'old' || i, $1 FROM generate_series(1, 50) i`,
        [NOW - 1],
      );
      expect(await stores[2]!.purgeExpired(NOW)).toBe(50);
    });
  });

  describe('changes pushed by LISTEN/NOTIFY', () => {
    it('announces another instance\'s revocation as its delta (jti and expiry), and a client change by id', async () => {
      const listener = open();
      const writer = open();
      await listener.ready();
      await writer.ready();
      const connected = changeSeen(listener, (c) => c.kind === 'all');
      await connected;
      const revoked = changeSeen(listener, (c) => c.kind === 'revoked');
      await writer.revokeToken({ jti: 'j1', clientId: 'c1', expiresAt: NOW + 5000 }, NOW);
      expect(await revoked).toMatchObject({ kind: 'revoked', jti: 'j1', expiresAt: NOW + 5000, revision: expect.any(Number) });
      const client = changeSeen(listener, (c) => c.kind === 'client');
      await writer.createClient({ id: 'c9', name: 'c', scopes: [], audiences: [], grantTypes: ['client_credentials'], tokenFormat: 'jwt', secretHash: 'h' }, NOW);
      expect(await client).toMatchObject({ kind: 'client', id: 'c9' });
    });

    it('ignores notifications of another schema in the same database', async () => {
      const other = await freshSchema();
      const foreign = openPgStore(other.schema);
      try {
        const listener = open();
        await listener.ready();
        await foreign.ready();
        await changeSeen(listener, (c) => c.kind === 'all');
        const heard: StoreChange[] = [];
        listener.onChange((c) => heard.push(c));
        await foreign.revokeToken({ jti: 'elsewhere', clientId: 'c', expiresAt: NOW + 5000 }, NOW);
        // A change in this schema afterwards arrives; the foreign one, sent before it, never did.
        const mine = changeSeen(listener, (c) => c.kind === 'revoked' && c.jti === 'here');
        await open().revokeToken({ jti: 'here', clientId: 'c', expiresAt: NOW + 5000 }, NOW);
        await mine;
        expect(heard.some((c) => c.kind === 'revoked' && c.jti === 'elsewhere')).toBe(false);
      } finally {
        await foreign.close();
        await other.drop();
      }
    });

    it('reconnects after its connection is killed, asks for a full re-read, and hears changes again', async () => {
      const listener = open({ livenessInterval: 200 });
      await listener.ready();
      await changeSeen(listener, (c) => c.kind === 'all');
      const reread = changeSeen(listener, (c) => c.kind === 'all');
      const { rows } = await db.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
        `${db.schema} listener`,
      ]);
      expect(rows.length).toBeGreaterThan(0);
      await reread;
      const revoked = changeSeen(listener, (c) => c.kind === 'revoked' && c.jti === 'after');
      await open().revokeToken({ jti: 'after', clientId: 'c', expiresAt: NOW + 5000 }, NOW);
      await revoked;
    });
  });
});
