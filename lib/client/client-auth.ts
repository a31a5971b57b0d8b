// Client authentication methods at the token endpoint, by their RFC 8414 / RFC 7591 names; oauth4webapi builds each (private_key_jwt would be one more entry).
import * as oauth from 'oauth4webapi';
import type { ClientAuthMethod } from './auth-methods';

export { CLIENT_AUTH_METHODS, type ClientAuthMethod } from './auth-methods';

/**
 * The oauth4webapi authenticator for a method. `client_secret_basic` form-encodes id and secret before
 * Base64 (RFC 6749 §2.3.1), so a secret with `:` or non-ASCII characters survives.
 */
export function clientAuthentication(method: ClientAuthMethod, clientSecret: string): oauth.ClientAuth {
  switch (method) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(clientSecret);
    case 'client_secret_post':
      return oauth.ClientSecretPost(clientSecret);
  }
}
