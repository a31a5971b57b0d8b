// Client authentication (RFC 6749 §2.3.1): id and secret against the store, with the same cost whether or not the id exists.
import { InvalidClientError } from '../model/errors';
import type { ClientStore } from '../../store/types';
import { acceptedSecretHashes, type Client } from '../model/client';
import type { SecretMemory } from './secret-memory';
import { isPlausibleSecret, type SecretVerifier } from './secrets';

/** Authenticates confidential clients; every failure is the same {@link InvalidClientError}. */
export class ClientAuthenticator {
  constructor(
    private readonly store: ClientStore,
    private readonly verifier: SecretVerifier,
    private readonly now: () => number,
    private readonly memory?: SecretMemory,
  ) {}

  /**
   * Resolves the client whose id and secret match. An unknown id, a secret-less client and a wrong
   * secret all cost one bcrypt comparison and fail alike, so the answer does not reveal which ids exist.
   * The row is read on every request; a secret bcrypt already accepted against a hash and version the
   * row still has skips bcrypt (only a caller who knows the secret can take that path).
   */
  /**
   * Whether this process has already verified exactly this secret for the client's current row,
   * without bcrypt: proof that the caller knows the secret, so failure limits need not hold it back.
   */
  async recalls(clientId: string, secret: string): Promise<boolean> {
    if (!this.memory || !isPlausibleSecret(secret)) return false;
    const client = await this.store.getClient(clientId);
    if (!client) return false;
    const acceptedHashes = acceptedSecretHashes(client, this.now());
    return this.memory.recalls(clientId, secret, { version: client.version, enabled: client.enabled, acceptedHashes });
  }

  async authenticate(clientId: string, secret: string): Promise<Client> {
    if (!isPlausibleSecret(secret)) throw new InvalidClientError('client authentication failed');
    const client = await this.store.getClient(clientId);
    const hashes = client ? acceptedSecretHashes(client, this.now()) : [];
    if (client && this.memory?.recalls(clientId, secret, { version: client.version, enabled: client.enabled, acceptedHashes: hashes })) {
      return client;
    }
    const matched = await this.verifier.match(secret, hashes);
    if (matched === undefined || !client) throw new InvalidClientError('client authentication failed');
    if (client.enabled) this.memory?.remember(clientId, secret, matched, client.version);
    return client;
  }
}
