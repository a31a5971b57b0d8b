// DPoP proof validation (RFC 9449 §4.3) and stateless nonces (§8, §9), on an injected clock.
import { exportJWK, generateKeyPair, SignJWT, type KeyLike, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { accessTokenHash, normalizeHtu, verifyDpopProof, type DpopProofExpectations } from '../../../lib/core/dpop/proof';
import { DpopNonces } from '../../../lib/core/dpop/nonce';
import { MemoryClaims } from '../../../lib/core/verification/replay-cache';
import { InvalidDpopProofError, UseDpopNonceError } from '../../../lib/core/model/errors';

const NOW = Date.UTC(2026, 0, 1);
const HTU = 'https://as.test/oauth/token';
let privateKey: KeyLike;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  publicJwk = await exportJWK(pair.publicKey);
});

async function proof(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: KeyLike = privateKey,
): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu: HTU, iat: NOW / 1000, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk, ...header } as never)
    .sign(key);
}

function expect_(overrides: Partial<DpopProofExpectations> = {}): DpopProofExpectations {
  return {
    htm: 'POST',
    htu: HTU,
    now: NOW,
    maxAgeSeconds: 60,
    clockToleranceSeconds: 5,
    claims: new MemoryClaims(100),
    namespace: 'test',
    ...overrides,
  };
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidDpopProofError);
    return (err as Error).message;
  }
  throw new Error('the proof was accepted');
}

describe('DPoP proof validation', () => {
  it('accepts a good proof and returns the RFC 7638 thumbprint of its key (RFC 9449 §4.3, §6.1)', async () => {
    const { calculateJwkThumbprint } = await import('jose');
    const verified = await verifyDpopProof(await proof(), expect_());
    expect(verified.jkt).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));
  });

  it('refuses a typ other than dpop+jwt (RFC 9449 §4.3 item 4)', async () => {
    expect(await reason(verifyDpopProof(await proof({}, { typ: 'JWT' }), expect_()))).toMatch(/typ/);
  });

  it('refuses a symmetric or unlisted algorithm (RFC 9449 §4.3 item 5)', async () => {
    const { SignJWT: S } = await import('jose');
    const hmac = await new S({ jti: 'x', htm: 'POST', htu: HTU, iat: NOW / 1000 })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'AAAA' } } as never)
      .sign(new Uint8Array(32));
    expect(await reason(verifyDpopProof(hmac, expect_()))).toMatch(/algorithm|malformed/);
    expect(await reason(verifyDpopProof(await proof(), expect_({ algorithms: ['RS256'] })))).toMatch(/algorithm/);
  });

  it('refuses a jwk header with private members (RFC 9449 §4.3 item 7)', async () => {
    const privateJwk = await exportJWK(privateKey);
    expect(await reason(verifyDpopProof(await proof({}, { jwk: privateJwk }), expect_()))).toMatch(/private|malformed/);
  });

  it('refuses a proof signed by another key than its jwk (RFC 9449 §4.3 item 6)', async () => {
    const other = await generateKeyPair('ES256');
    expect(await reason(verifyDpopProof(await proof({}, {}, other.privateKey), expect_()))).toMatch(/signature/);
  });

  it('refuses an htm that is not the request method (RFC 9449 §4.3 item 8)', async () => {
    expect(await reason(verifyDpopProof(await proof({ htm: 'GET' }), expect_()))).toMatch(/htm/);
  });

  it('compares htu without query and fragment, normalized (RFC 9449 §4.3 item 9)', async () => {
    await expect(verifyDpopProof(await proof({ htu: 'HTTPS://AS.test:443/oauth/token?x=1#f' }), expect_())).resolves.toBeDefined();
    expect(await reason(verifyDpopProof(await proof({ htu: 'https://as.test/oauth/other' }), expect_()))).toMatch(/htu/);
    expect(await reason(verifyDpopProof(await proof({ htu: 'https://evil.test/oauth/token' }), expect_()))).toMatch(/htu/);
    expect(normalizeHtu('ftp://x/y')).toBeUndefined();
  });

  it('refuses an iat outside the window, old or ahead of the clock (RFC 9449 §4.3 item 11)', async () => {
    expect(await reason(verifyDpopProof(await proof({ iat: NOW / 1000 - 66 }), expect_()))).toMatch(/iat/);
    expect(await reason(verifyDpopProof(await proof({ iat: NOW / 1000 + 6 }), expect_()))).toMatch(/iat/);
    expect(await reason(verifyDpopProof(await proof({ iat: undefined }), expect_()))).toMatch(/iat/);
    await expect(verifyDpopProof(await proof({ iat: NOW / 1000 - 64 }), expect_())).resolves.toBeDefined();
  });

  it('refuses a replayed jti within the window (RFC 9449 §11.1)', async () => {
    const claims = new MemoryClaims(100);
    const p = await proof();
    await verifyDpopProof(p, expect_({ claims }));
    expect(await reason(verifyDpopProof(p, expect_({ claims })))).toMatch(/replay/);
  });

  it('refuses a proof without jti (RFC 9449 §4.2)', async () => {
    expect(await reason(verifyDpopProof(await proof({ jti: undefined }), expect_()))).toMatch(/jti/);
  });

  it('checks ath against the presented access token (RFC 9449 §7.1 item 10)', async () => {
    const token = 'the.access.token';
    await expect(verifyDpopProof(await proof({ ath: accessTokenHash(token) }), expect_({ accessToken: token }))).resolves.toBeDefined();
    expect(await reason(verifyDpopProof(await proof({ ath: accessTokenHash('other') }), expect_({ accessToken: token })))).toMatch(/ath/);
    expect(await reason(verifyDpopProof(await proof(), expect_({ accessToken: token })))).toMatch(/ath/);
  });

  it('refuses a proof that is not a JWT at all', async () => {
    expect(await reason(verifyDpopProof('garbage', expect_()))).toMatch(/malformed/);
    expect(await reason(verifyDpopProof('x'.repeat(5000), expect_()))).toMatch(/too long/);
  });
});

describe('DPoP server nonces', () => {
  const secret = 'n'.repeat(32);
  const nonces = new DpopNonces({ secrets: [secret], stepSeconds: 300 });

  it('asks for a nonce with use_dpop_nonce and a DPoP-Nonce header (RFC 9449 §8)', async () => {
    const err = await verifyDpopProof(await proof(), expect_({ nonces })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UseDpopNonceError);
    expect((err as UseDpopNonceError).error).toBe('use_dpop_nonce');
    expect((err as UseDpopNonceError).headers['DPoP-Nonce']).toBe(nonces.current(NOW));
  });

  it('accepts the current nonce and the previous step, refuses older ones (RFC 9449 §8.1)', async () => {
    await expect(verifyDpopProof(await proof({ nonce: nonces.current(NOW) }), expect_({ nonces }))).resolves.toBeDefined();
    expect(nonces.isValid(nonces.current(NOW - 300_000), NOW)).toBe(true);
    expect(nonces.isValid(nonces.current(NOW - 600_000), NOW)).toBe(false);
    await expect(verifyDpopProof(await proof({ nonce: nonces.current(NOW - 600_000) }), expect_({ nonces }))).rejects.toBeInstanceOf(UseDpopNonceError);
  });

  it('instances sharing the secret agree with no storage, and a rotated secret is still accepted (RFC 9449 §9)', () => {
    const other = new DpopNonces({ secrets: ['m'.repeat(32), secret], stepSeconds: 300 });
    expect(other.isValid(nonces.current(NOW), NOW)).toBe(true);
    expect(new DpopNonces({ secrets: ['m'.repeat(32)], stepSeconds: 300 }).isValid(nonces.current(NOW), NOW)).toBe(false);
    expect(nonces.isValid('1.AAAAAAAAAAAAAAAAAAAAAA', NOW)).toBe(false);
  });

  it('refuses short secrets at construction', () => {
    expect(() => new DpopNonces({ secrets: ['short'], stepSeconds: 300 })).toThrow(TypeError);
  });
});
