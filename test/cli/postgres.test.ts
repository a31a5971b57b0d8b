// The CLI on PostgreSQL: --db postgres://... (or OAUTH_DB) for every command, on the schema the server uses; an unreachable database is one line and status 1.
import { freshSchema, pgAvailable, PG_URL } from '../support/stores';
import { runCli } from './in-process';

const available = pgAvailable();
const describePg = available ? describe : describe.skip;

describePg('CLI on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let url: string;
  beforeEach(async () => {
    db = await freshSchema();
    const u = new URL(PG_URL as string);
    u.searchParams.set('options', `-c search_path=${db.schema}`);
    url = u.toString();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('creates, lists and disables a client and rotates the key with --db postgres://..., and reads OAUTH_DB', async () => {
    const created = await runCli(['client', 'create', '--db', url, '--name', 'svc', '--scope', 'read', '--json'], { OAUTH_BCRYPT_COST: '4' });
    expect(created.code).toBe(0);
    const { client_id: id } = JSON.parse(created.out) as { client_id: string };
    const listed = await runCli(['client', 'list', '--json'], { OAUTH_DB: url });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.out) as { client_id: string }[]).map((c) => c.client_id)).toEqual([id]);
    expect((await runCli(['client', 'disable', id, '--db', url])).code).toBe(0);
    expect((await runCli(['key', 'rotate', '--db', url])).code).toBe(0);
    const { rows } = await db.admin.query(`SELECT enabled FROM ${db.schema}.clients WHERE id = $1`, [id]);
    expect(rows).toEqual([{ enabled: false }]);
    const keys = await db.admin.query(`SELECT count(*)::int AS n FROM ${db.schema}.signing_keys WHERE active`);
    expect(keys.rows[0].n).toBe(1);
  });

  it('fails with one line and status 1 when the database cannot be reached', async () => {
    const res = await runCli(['client', 'list', '--db', 'postgres://postgres@127.0.0.1:1/test']);
    expect(res).toEqual({ code: 1, out: '', err: 'express-client-credentials: the database is unavailable\n' });
  });
});
