// The client registry: validated administration, secrets generated here, stored only as bcrypt hashes, shown once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { AuditEmitter, ClientRegistry, RegistryError, type AuditEvent } from '../../../lib/core';
import { SqliteStore } from '../../../lib/store/sqlite';
import { fakeClock, tempDir } from '../../helpers';

let store: SqliteStore;
let registry: ClientRegistry;
let clock: ReturnType<typeof fakeClock>;
let events: AuditEvent[];
let database: string;
let cleanup: () => void;

beforeEach(() => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  database = join(tmp.dir, 'oauth.sqlite');
  store = SqliteStore.open(database);
  clock = fakeClock();
  const emitter = new AuditEmitter(clock.now);
  events = [];
  emitter.on('audit', (event: AuditEvent) => events.push(event));
  registry = new ClientRegistry(store, { bcryptCost: 4, clock: clock.now }, emitter);
});
afterEach(async () => {
  await store.close();
  cleanup();
});

describe('client registry', () => {
  it('creates a confidential client_credentials client and returns its secret once, storing only a bcrypt hash', async () => {
    const { client, clientSecret } = await registry.create({ name: ' billing ', scopes: 'read write' });
    expect(client).toMatchObject({
      name: 'billing',
      scopes: ['read', 'write'],
      grantTypes: ['client_credentials'],
      enabled: true,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    });
    expect(client.id).toMatch(/^[0-9a-f]{32}$/);
    expect(client.secrets).toHaveLength(1);
    expect(client.secrets[0]?.hash).toMatch(/^\$2b\$04\$/);
    expect(await bcrypt.compare(clientSecret, client.secrets[0]?.hash as string)).toBe(true);
    await store.close(); // checkpoints the WAL into the file
    expect(readFileSync(database).includes(clientSecret)).toBe(false);
    expect(readFileSync(database).includes(client.secrets[0]?.hash as string)).toBe(true);
  });

  it('records audit events without the secret', async () => {
    const { client, clientSecret } = await registry.create({ name: 'a', scopes: 'read' });
    await registry.rotateSecret(client.id);
    expect(events.map((e) => e.type)).toEqual(['client.created', 'client.secret_rotated']);
    expect(JSON.stringify(events)).not.toContain(clientSecret);
  });

  it.each([
    ['a scope breaking the RFC 6749 §3.3 grammar', { name: 'a', scopes: 'read "x' }, 'scope'],
    ['an empty name', { name: '  ', scopes: 'read' }, 'name'],
    ['a name with control characters', { name: 'a\nb', scopes: 'read' }, 'name'],
  ])('refuses %s and stores nothing', async (_case, input, field) => {
    await expect(registry.create(input)).rejects.toMatchObject({ name: 'RegistryError', code: 'invalid', field });
    expect(await registry.list()).toEqual([]);
  });

  it('replaces scopes, refusing a malformed one without changing anything', async () => {
    const { client } = await registry.create({ name: 'a', scopes: 'read' });
    clock.advance(1000);
    expect((await registry.setScopes(client.id, 'read write')).scopes).toEqual(['read', 'write']);
    await expect(registry.setScopes(client.id, 'ad\\min')).rejects.toBeInstanceOf(RegistryError);
    const after = await registry.get(client.id);
    expect(after.scopes).toEqual(['read', 'write']);
    expect(after.updatedAt).toBe(clock.now());
  });

  it('disables and enables a client', async () => {
    const { client } = await registry.create({ name: 'a', scopes: 'read' });
    expect((await registry.setEnabled(client.id, false)).enabled).toBe(false);
    expect((await registry.setEnabled(client.id, true)).enabled).toBe(true);
  });

  it('rotates the secret: the old one stops at once without a grace period', async () => {
    const { client, clientSecret: old } = await registry.create({ name: 'a', scopes: 'read' });
    const { client: rotated, clientSecret } = await registry.rotateSecret(client.id);
    expect(clientSecret).not.toBe(old);
    expect(rotated.secrets).toHaveLength(1);
    expect(await bcrypt.compare(clientSecret, rotated.secrets[0]?.hash as string)).toBe(true);
  });

  it('rotates the secret with a grace period: the old one stays valid until then', async () => {
    const { client, clientSecret: old } = await registry.create({ name: 'a', scopes: 'read' });
    clock.advance(1000);
    const { client: rotated } = await registry.rotateSecret(client.id, { graceSeconds: 3600 });
    expect(rotated.secrets).toHaveLength(2);
    expect(rotated.secrets[0]?.expiresAt).toBeNull();
    expect(rotated.secrets[1]?.expiresAt).toBe(clock.now() + 3_600_000);
    expect(await bcrypt.compare(old, rotated.secrets[1]?.hash as string)).toBe(true);
  });

  it('refuses a negative grace period', async () => {
    const { client } = await registry.create({ name: 'a', scopes: 'read' });
    await expect(registry.rotateSecret(client.id, { graceSeconds: -1 })).rejects.toMatchObject({ code: 'invalid', field: 'grace' });
    expect((await registry.get(client.id)).secrets).toHaveLength(1);
  });

  it('answers an unknown client id with not_found for every operation', async () => {
    const notFound = { name: 'RegistryError', code: 'not_found', message: 'no client with id "nope"' };
    await expect(registry.get('nope')).rejects.toMatchObject(notFound);
    await expect(registry.setScopes('nope', 'read')).rejects.toMatchObject(notFound);
    await expect(registry.setEnabled('nope', false)).rejects.toMatchObject(notFound);
    await expect(registry.rotateSecret('nope')).rejects.toMatchObject(notFound);
    await expect(registry.delete('nope')).rejects.toMatchObject(notFound);
  });

  it('deletes a client', async () => {
    const { client } = await registry.create({ name: 'a', scopes: 'read' });
    await registry.delete(client.id);
    expect(await registry.list()).toEqual([]);
  });
});
