// JwksVerifier.verifyBound: a verified token is vouched for only while the key that verified it is still published.
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { RemoteIssuer } from '../../../lib/core/verification/remote-issuer';
import { JwksVerifier } from '../../../lib/core/verification/remote-verifiers';
import type { SigningAlgorithm } from '../../../lib/core/tokens/keys';

const ISSUER = 'https://auth.internal';
const AUDIENCE = 'https://orders.internal';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** An issuer stand-in whose published key set the test changes by hand. */
function fakeIssuer(onResolve: (issuer: { keySetVersion: number; published: Map<string, string> }) => void = () => {}) {
  const state = {
    keySetVersion: 0,
    published: new Map([['k1', 'material-1']]),
  };
  const issuer = {
    options: { issuer: ISSUER },
    get keySetVersion() {
      return state.keySetVersion;
    },
    publishedKey: (kid: string) => state.published.get(kid),
    resolveKey: async (kid: string, alg: SigningAlgorithm) => {
      onResolve(state);
      return kid === 'k1' ? { alg, publicKey } : undefined;
    },
  };
  return { state, verifier: new JwksVerifier(issuer as unknown as RemoteIssuer, { audience: [AUDIENCE], acceptScp: false, clockTolerance: 0, clock: Date.now }) };
}

function token(): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ iss: ISSUER, aud: AUDIENCE, sub: 'c1', client_id: 'c1', jti: 'j1', scope: 'read', iat: now, exp: now + 60 }, privateKey, {
    algorithm: 'ES256',
    keyid: 'k1',
    header: { alg: 'ES256', typ: 'at+jwt' },
  });
}

describe('JwksVerifier.verifyBound', () => {
  it('vouches for a token while its kid keeps the same published key, and not once it is dropped or replaced', async () => {
    const { state, verifier } = fakeIssuer();
    const { verified, stillHolds } = await verifier.verifyBound(token());
    expect(verified.clientId).toBe('c1');
    expect(stillHolds?.()).toBe(true);
    state.published.set('k1', 'material-2');
    expect(stillHolds?.()).toBe(false);
    state.published.delete('k1');
    expect(stillHolds?.()).toBe(false);
  });

  it('does not vouch for a verification during which the key set removed or replaced a key', async () => {
    const { verifier } = fakeIssuer((state) => state.keySetVersion++);
    const { verified, stillHolds } = await verifier.verifyBound(token());
    expect(verified.clientId).toBe('c1');
    expect(stillHolds).toBeUndefined();
  });
});
