// The `key` CLI commands: rotate makes a new key active and keeps the old one published; list shows both.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './in-process';
import Database from 'better-sqlite3';
import { createOAuth } from '../../lib';
import { SqliteStore } from '../../lib/store/sqlite';
import { fakeClock, ISSUER, memoryLogger, tempDir } from '../helpers';


describe('key CLI', () => {
  it('refuses to rotate in a database that does not exist, and creates no file (a mistyped --db)', async () => {
    const { dir, cleanup } = tempDir();
    const db = join(dir, 'typo.sqlite');
    try {
      const res = await runCli(['key', 'rotate', '--db', db], {}, Date.now);
      expect(res.code).toBe(1);
      expect(res.err).toBe(`express-client-credentials: no database at ${db} (give --db PATH or set OAUTH_DB)\n`);
      expect(existsSync(db)).toBe(false);
    } finally {
      cleanup();
    }
  });


  it('rotates the signing key and lists the old one until it retires', async () => {
    const { dir, cleanup } = tempDir();
    const db = join(dir, 'oauth.sqlite');
    const clock = fakeClock();
    try {
      await (await SqliteStore.open(db)).close(); // an existing, empty database: rotate creates its first key
      const first = await runCli(['key', 'rotate', '--db', db, '--json'], {}, clock.now);
      expect(first.code).toBe(0);
      const created = JSON.parse(first.out);
      expect(created).toMatchObject({ alg: 'RS256', previous_kid: null, previous_retire_at: null });

      const second = await runCli(['key', 'rotate', '--db', db, '--token-lifetime', '1h', '--json'], {}, clock.now);
      const rotated = JSON.parse(second.out);
      expect(rotated).toMatchObject({ alg: 'RS256', previous_kid: created.kid, previous_retire_at: new Date(clock.now() + 3_600_000).toISOString() });

      const listed = JSON.parse((await runCli(['key', 'list', '--db', db, '--json'], {}, clock.now)).out);
      expect(listed.map((k: { kid: string; active: boolean }) => [k.kid, k.active])).toEqual([
        [rotated.kid, true],
        [created.kid, false],
      ]);
      clock.advance(3_600_000);
      const later = JSON.parse((await runCli(['key', 'list', '--db', db, '--json'], {}, clock.now)).out);
      expect(later.map((k: { kid: string }) => k.kid)).toEqual([rotated.kid]);

      const store = SqliteStore.open(db);
      expect((await store.listSigningKeys(clock.now()))[0]?.kid).toBe(rotated.kid);
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('refuses an unknown algorithm with exit status 2 and changes nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const res = await runCli(['key', 'rotate', '--db', join(dir, 'x.sqlite'), '--alg', 'HS256'], {}, Date.now);
      expect(res.code).toBe(2);
      expect(res.err).toBe("express-client-credentials: --alg must be one of RS256, ES256 (see 'express-client-credentials key rotate --help')\n");
      expect(res.out).toBe('');
      expect(existsSync(join(dir, 'x.sqlite'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe('client create CLI audiences', () => {
  it('registers a client with audiences and a token format', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const res = await runCli(
        ['client', 'create', '--db', join(dir, 'c.sqlite'), '--name', 'shop', '--scope', 'read', '--audience', 'https://orders.internal https://billing.internal', '--token-format', 'reference', '--json'],
        {},
        Date.now,
      );
      expect(res.code).toBe(0);
      expect(JSON.parse(res.out)).toMatchObject({ audiences: ['https://orders.internal', 'https://billing.internal'], token_format: 'reference' });
    } finally {
      cleanup();
    }
  });

  it('refuses an unknown token format with exit status 2, changing nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const res = await runCli(['client', 'create', '--db', join(dir, 'c.sqlite'), '--name', 'shop', '--token-format', 'paseto'], {}, Date.now);
      expect(res.code).toBe(2);
      expect(res.err).toBe("express-client-credentials: --token-format must be jwt or reference (see 'express-client-credentials client create --help')\n");
      expect(existsSync(join(dir, 'c.sqlite'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe('key CLI: keys at rest and retirement (issues 10 and 18)', () => {
  const SECRET = 's'.repeat(16) + 'a-long-random-key-secret';
  let dir: string;
  let cleanup: () => void;
  let db: string;
  let clock: ReturnType<typeof fakeClock>;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 'oauth.sqlite');
    clock = fakeClock();
  });
  afterEach(() => cleanup());

  const privateKeys = () => {
    const sqlite = new Database(db, { readonly: true });
    try {
      return sqlite.prepare('SELECT private_key FROM signing_keys WHERE active = 1').pluck().all() as string[];
    } finally {
      sqlite.close();
    }
  };

  it('refuses a --token-lifetime shorter than a minute or longer than a day plus tolerance, changing nothing', async () => {
    await (await SqliteStore.open(db)).close();
    for (const value of ['0', '59s', '999999999', '2d']) {
      const res = await runCli(['key', 'rotate', '--db', db, '--token-lifetime', value], {}, clock.now);
      expect(res.code).toBe(2);
      expect(res.err).toBe(
        "express-client-credentials: --token-lifetime must be from 60s to 86700s (a day plus clock tolerance) (see 'express-client-credentials key rotate --help')\n",
      );
    }
    const store = SqliteStore.open(db);
    expect(await store.listSigningKeys(clock.now())).toEqual([]);
    await store.close();
  });

  it('encrypts the keys it makes with OAUTH_KEY_SECRET, and refuses to rotate encrypted keys without it', async () => {
    await (await SqliteStore.open(db)).close();
    expect((await runCli(['key', 'rotate', '--db', db], { OAUTH_KEY_SECRET: SECRET }, clock.now)).code).toBe(0);
    const [sealed] = privateKeys();
    expect(sealed).toMatch(/^ecc-kek1\./);
    const listed = JSON.parse((await runCli(['key', 'list', '--db', db, '--json'], {}, clock.now)).out);
    expect(listed[0]).toMatchObject({ active: true, private_key: 'encrypted' });

    const without = await runCli(['key', 'rotate', '--db', db], {}, clock.now);
    expect(without.code).toBe(1);
    expect(without.err).toMatch(/^express-client-credentials: signing key \S+ is encrypted, but no key secret is configured/);
    expect(privateKeys()).toEqual([sealed]);
    const short = await runCli(['key', 'rotate', '--db', db], { OAUTH_KEY_SECRET: 'too-short' }, clock.now);
    expect(short.code).toBe(2);
    expect(short.err).not.toContain('too-short');
  });

  it('key retire reads a key id that starts with "-" as the key id, not as an option (an RFC 7638 thumbprint is base64url)', async () => {
    await (await SqliteStore.open(db)).close();
    const dashed = '-Wq3yZkYtN0a8XbQe1fU5mJ2cR7vH9sLpD4gK6oT_iE';
    const single = await runCli(['key', 'retire', dashed, '--db', db], {}, clock.now);
    expect(single.code).toBe(1);
    expect(single.err).toBe(`express-client-credentials: no signing key "${dashed}" in service (see 'express-client-credentials key list')\n`);
    const before = await runCli(['key', 'retire', '--db', db, dashed], {}, clock.now);
    expect(before.err).toBe(single.err);
    const double = `-${dashed}`;
    const separated = await runCli(['key', 'retire', '--db', db, '--', double], {}, clock.now);
    expect(separated.err).toBe(`express-client-credentials: no signing key "${double}" in service (see 'express-client-credentials key list')\n`);
    const unseparated = await runCli(['key', 'retire', double, '--db', db], {}, clock.now);
    expect(unseparated.code).toBe(2);
    expect(unseparated.err).toContain(`unknown option ${double} (put an argument that starts with "--" after "--")`);
    const misspelt = await runCli(['key', 'retire', dashed, '--jsn', '--db', db], {}, clock.now);
    expect(misspelt.code).toBe(2);
    expect(misspelt.err).toBe("express-client-credentials: unknown option --jsn (see 'express-client-credentials key retire --help')\n");
  });

  it('key retire: a key taken out of service stops verifying at once in a running server, the active one replaced first', async () => {
    const oauth = createOAuth({ issuer: ISSUER, database: db, bcryptCost: 4, logger: memoryLogger(), clock: clock.now });
    try {
      const { client, clientSecret } = await oauth.registry.create({ name: 'svc', scopes: 'read' });
      const issue = async () => (await oauth.server.issueToken(await oauth.server.authenticateClient(client.id, clientSecret), {})).access_token;
      const verify = (token: string) => oauth.server.verifyAccessToken(token, { audience: [ISSUER] });
      const first = await issue();
      const { kid: second, previousKid } = await oauth.server.rotateSigningKey();
      await expect(verify(first)).resolves.toBeDefined();

      const retired = await runCli(['key', 'retire', previousKid as string, '--db', db], {}, clock.now);
      expect(retired.code).toBe(0);
      await oauth.server.changes.poll(); // the server's timer would do this within syncInterval
      await expect(verify(first)).rejects.toThrow('the access token was signed with an unknown key');

      const current = await issue();
      const active = await runCli(['key', 'retire', second, '--db', db, '--json'], {}, clock.now);
      expect(active.code).toBe(0);
      const answer = JSON.parse(active.out);
      expect(answer.retired).toBe(second);
      expect(answer.active).not.toBe(second);
      await oauth.server.changes.poll();
      await expect(verify(current)).rejects.toThrow('the access token was signed with an unknown key');
      await expect(verify(await issue())).resolves.toBeDefined();

      const again = await runCli(['key', 'retire', second, '--db', db], {}, clock.now);
      expect(again.code).toBe(1);
      expect(again.err).toBe(`express-client-credentials: no signing key "${second}" in service (see 'express-client-credentials key list')\n`);
    } finally {
      await oauth.close();
    }
  });
});

describe('key rotate --publish-ahead (issue 15: publish before use)', () => {
  let dir: string;
  let cleanup: () => void;
  let db: string;
  let clock: ReturnType<typeof fakeClock>;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 'oauth.sqlite');
    clock = fakeClock();
  });
  afterEach(() => cleanup());

  it('publishes the next key now; a running server signs with it from activate_at and promotes it, keeping the old key for its tokens plus the JWKS cache time', async () => {
    const oauth = createOAuth({ issuer: ISSUER, database: db, bcryptCost: 4, logger: memoryLogger(), clock: clock.now, signingAlgorithm: 'ES256' });
    try {
      const { client, clientSecret } = await oauth.registry.create({ name: 'svc', scopes: 'read' });
      const kidOfNewToken = async () => {
        const token = (await oauth.server.issueToken(await oauth.server.authenticateClient(client.id, clientSecret), {})).access_token;
        return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid as string;
      };
      const first = await kidOfNewToken();

      const res = await runCli(['key', 'rotate', '--db', db, '--publish-ahead', '10m', '--json'], {}, clock.now);
      expect(res.code).toBe(0);
      const published = JSON.parse(res.out);
      const activateAt = clock.now() + 600_000;
      expect(published).toMatchObject({ alg: 'ES256', active_kid: first, activate_at: new Date(activateAt).toISOString() });
      const listed = JSON.parse((await runCli(['key', 'list', '--db', db, '--json'], {}, clock.now)).out);
      expect(listed.map((k: { kid: string; state: string; activate_at: string | null }) => [k.kid, k.state, k.activate_at])).toEqual([
        [first, 'active', null],
        [published.kid, 'next', new Date(activateAt).toISOString()],
      ]);
      // Published at once (the server sees the CLI's change on its next look), signing only later.
      oauth.server.keys.invalidate();
      expect((await oauth.server.keys.publicJwks()).map((k) => k.kid)).toEqual([first, published.kid]);
      clock.set(activateAt - 1);
      expect(await kidOfNewToken()).toBe(first);

      clock.set(activateAt);
      const rotated = new Promise((resolve) => oauth.events.once('key.rotated', resolve));
      expect(await kidOfNewToken()).toBe(published.kid);
      expect(await rotated).toMatchObject({ kid: published.kid, previousKid: first, scheduled: false });
      const keys = await oauth.server.store.listSigningKeys(clock.now());
      expect(keys.map((k) => [k.kid, k.active, k.privateKeyPem === null, k.retireAt])).toEqual([
        [published.kid, true, false, null],
        [first, false, true, activateAt + (3600 + 5 + 300) * 1000],
      ]);
    } finally {
      await oauth.close();
    }
  });

  it('refuses a second next key, an out-of-range lead, and --token-lifetime alongside, changing nothing', async () => {
    await (await SqliteStore.open(db)).close();
    expect((await runCli(['key', 'rotate', '--db', db, '--publish-ahead', '5m'], {}, clock.now)).code).toBe(0);
    const before = await (async () => {
      const store = SqliteStore.open(db);
      try {
        return await store.listSigningKeys(clock.now());
      } finally {
        await store.close();
      }
    })();
    expect(before.map((k) => k.active)).toEqual([true, false]);

    const again = await runCli(['key', 'rotate', '--db', db, '--publish-ahead', '5m'], {}, clock.now);
    expect(again.code).toBe(1);
    expect(again.err).toBe(
      `express-client-credentials: key ${before[1]?.kid} is already published and signs from ${new Date(clock.now() + 300_000).toISOString()} (see 'express-client-credentials key list')\n`,
    );
    for (const value of ['0', '8d']) {
      const res = await runCli(['key', 'rotate', '--db', db, '--publish-ahead', value], {}, clock.now);
      expect(res.code).toBe(2);
      expect(res.err).toBe("express-client-credentials: --publish-ahead must be from 1s to 7d (see 'express-client-credentials key rotate --help')\n");
    }
    const both = await runCli(['key', 'rotate', '--db', db, '--publish-ahead', '5m', '--token-lifetime', '1h'], {}, clock.now);
    expect(both.code).toBe(2);
    const store = SqliteStore.open(db);
    expect((await store.listSigningKeys(clock.now())).map((k) => k.kid)).toEqual(before.map((k) => k.kid));
    await store.close();
  });
});
