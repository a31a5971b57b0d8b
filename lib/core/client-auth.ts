// Client authentication (RFC 6749 §2.3.1): id and secret against the store, with the same cost whether or not the id exists.
import { InvalidClientError } from '../errors';
import type { ClientStore } from '../store/types';
import { acceptedSecretHashes, type Client } from './client';
import { isPlausibleSecret, type SecretVerifier } from './secrets';

/** Authenticates confidential clients; every failure is the same {@link InvalidClientError}. */
export class ClientAuthenticator {
  constructor(
    private readonly store: ClientStore,
    private readonly verifier: SecretVerifier,
    private readonly now: () => number,
  ) {}

  /**
   * Resolves the client whose id and secret match. An unknown id, a secret-less client and a wrong
   * secret all cost one bcrypt comparison and fail alike, so the answer does not reveal which ids exist.
   */
  async authenticate(clientId: string, secret: string): Promise<Client> {
    if (!isPlausibleSecret(secret)) throw new InvalidClientError('client authentication failed');
    const client = await this.store.getClient(clientId);
    const hashes = client ? acceptedSecretHashes(client, this.now()) : [];
    if (!(await this.verifier.verify(secret, hashes)) || !client) {
      throw new InvalidClientError('client authentication failed');
    }
    return client;
  }
}
