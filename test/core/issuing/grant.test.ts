// The client credentials grant (RFC 6749 §4.4): grant type, client eligibility, scope decision and claims.
import type { Client } from '../../../lib/core';
import { clientRow } from '../../helpers';
import { buildClaims, checkClientMayUseGrant, checkGrantType, decideScopes } from '../../../lib/core/issuing/grant';

const client = clientRow;

describe('client credentials grant', () => {
  it('requires grant_type=client_credentials (RFC 6749 §4.4.2)', () => {
    expect(() => checkGrantType('client_credentials')).not.toThrow();
    expect(() => checkGrantType(undefined)).toThrow(expect.objectContaining({ error: 'invalid_request', status: 400 }));
    expect(() => checkGrantType('password')).toThrow(expect.objectContaining({ error: 'unsupported_grant_type', status: 400 }));
  });

  it('lets only an enabled, confidential client with the grant use it (RFC 6749 §4.4)', () => {
    expect(() => checkClientMayUseGrant(client())).not.toThrow();
    const refused = (c: Client, message: string) =>
      expect(() => checkClientMayUseGrant(c)).toThrow(expect.objectContaining({ error: 'unauthorized_client', message }));
    refused(client({ enabled: false }), 'the client is disabled');
    refused(client({ secrets: [] }), 'public clients may not use the client_credentials grant');
    refused(client({ grantTypes: ['authorization_code'] }), 'the client is not allowed the client_credentials grant');
  });

  it('grants all allowed scopes when none are requested, else exactly the requested ones (RFC 6749 §3.3)', () => {
    expect(decideScopes(client(), undefined)).toEqual(['read', 'write']);
    expect(decideScopes(client(), 'write')).toEqual(['write']);
    expect(decideScopes(client({ effectiveScopes: ['read', 'write', 'group-scope'] }), 'group-scope')).toEqual(['group-scope']);
    expect(() => decideScopes(client(), 'read admin')).toThrow(expect.objectContaining({ error: 'invalid_scope' }));
    expect(() => decideScopes(client(), 'read  write')).toThrow(expect.objectContaining({ error: 'invalid_scope' }));
    expect(() => decideScopes(client({ effectiveScopes: [] }), undefined)).toThrow(expect.objectContaining({ error: 'invalid_scope' }));
  });

  it('builds RFC 9068 claims: sub and client_id are the client, exp is iat plus the lifetime', () => {
    const claims = buildClaims({ issuer: 'https://as', client: client(), audience: 'https://api', scopes: ['read'], nowMs: 1_700_000_000_999, lifetimeSeconds: 60 });
    expect(claims).toEqual({
      iss: 'https://as',
      sub: 'c1',
      client_id: 'c1',
      aud: 'https://api',
      scope: 'read',
      iat: 1_700_000_000,
      exp: 1_700_000_060,
      // the issuance millisecond (base 36), then 128 random bits
      jti: expect.stringMatching(new RegExp(`^${(1_700_000_000_999).toString(36)}\\.[A-Za-z0-9_-]{22}$`)),
    });
  });

  it('gives every token its own 128 random bits in the jti, none reused across many tokens (RFC 7519 §4.1.7)', () => {
    // More tokens than one 4 KiB draw of entropy serves (256), so several draws are crossed.
    const random = Array.from({ length: 1000 }, () =>
      buildClaims({ issuer: 'https://as', client: client(), audience: 'https://api', scopes: ['read'], nowMs: 1_700_000_000_999, lifetimeSeconds: 60 }).jti.split('.')[1],
    );
    expect(random.every((r) => /^[A-Za-z0-9_-]{22}$/.test(r as string))).toBe(true);
    expect(new Set(random).size).toBe(random.length);
  });
});
