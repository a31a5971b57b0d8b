// private_key_jwt as one more client-authentication method of the ClientAuthenticator (RFC 7523 §2.2, RFC 7521 §4.2): which requests use it, how the assertion is read once, how it is checked.
import type { Client } from '../model/client';
import type { ClientAuthMethod, ClientAuthRequest, CostlyWork, VerifyOutcome } from './methods';
import { readClientAssertion, type AssertionCredential, type ClientAssertionVerifier } from './private-key-jwt';

/**
 * `private_key_jwt`: the client signs a one-time JWT with a key it registered (`jwks` / `jwks_uri`), so no
 * secret ever travels. The {@link ClientAuthenticator} picks it when the form carries `client_assertion_type`
 * or `client_assertion` (with Basic or a `client_secret` beside it, `invalid_request`, RFC 6749 §2.3), lets it
 * read the assertion once (the client id is its `sub` = `iss`), counts the attempt in the failure limits,
 * and calls {@link verify}: signature by a registered key, `aud`, `exp`, and the `jti` claimed once.
 *
 * The check does not take a slot of the bcrypt gate: a signature check costs microseconds, and a first use
 * of a `jwks_uri` fetches it, which must not hold a slot other clients' bcrypt work waits for.
 */
export class PrivateKeyJwt implements ClientAuthMethod<AssertionCredential> {
  readonly name = 'private_key_jwt';
  readonly label = 'a client assertion';
  readonly readsAuthorizationHeader = false;

  constructor(private readonly assertions: ClientAssertionVerifier) {}

  uses(request: ClientAuthRequest): boolean {
    return request.form.client_assertion_type !== undefined || request.form.client_assertion !== undefined;
  }

  parse(request: ClientAuthRequest): AssertionCredential {
    return readClientAssertion(request.form);
  }

  verify(credential: AssertionCredential, client: Client | undefined, _work: CostlyWork): Promise<VerifyOutcome> {
    return this.assertions.verify(credential, client);
  }
}
