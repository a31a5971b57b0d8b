// The framework-free authorization server: client authentication costs the same for unknown ids from the first request on.
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { createOAuth } from '../../../lib';
import { ISSUER, memoryLogger, tempDir } from '../../helpers';

describe('authorization server', () => {
  it('hashes the dummy secret at construction, so the first unknown client id costs no extra bcrypt hash', async () => {
    const { dir, cleanup } = tempDir();
    const hash = jest.spyOn(bcrypt, 'hash');
    const oauth = createOAuth({ issuer: ISSUER, database: join(dir, 'oauth.sqlite'), bcryptCost: 4, logger: memoryLogger() });
    try {
      expect(hash).toHaveBeenCalledTimes(1);
      hash.mockClear();
      await expect(oauth.server.authenticateClient('unknown', 'secret')).rejects.toMatchObject({ error: 'invalid_client' });
      expect(hash).not.toHaveBeenCalled();
    } finally {
      hash.mockRestore();
      await oauth.close();
      cleanup();
    }
  });

  it('fails an unknown id, a wrong secret and an implausible secret with the same invalid_client', async () => {
    const { dir, cleanup } = tempDir();
    const oauth = createOAuth({ issuer: ISSUER, database: join(dir, 'oauth.sqlite'), bcryptCost: 4, logger: memoryLogger() });
    try {
      const { client, clientSecret } = await oauth.registry.create({ name: 'a', scopes: 'read' });
      const failure = { error: 'invalid_client', message: 'client authentication failed', status: 401 };
      await expect(oauth.server.authenticateClient('unknown', clientSecret)).rejects.toMatchObject(failure);
      await expect(oauth.server.authenticateClient(client.id, 'wrong')).rejects.toMatchObject(failure);
      await expect(oauth.server.authenticateClient(client.id, 'x'.repeat(73))).rejects.toMatchObject(failure);
      await expect(oauth.server.authenticateClient(client.id, clientSecret)).resolves.toMatchObject({ id: client.id });
    } finally {
      await oauth.close();
      cleanup();
    }
  });
});
