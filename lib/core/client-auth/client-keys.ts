// A registered client's public keys for private_key_jwt (RFC 7523 §2.2): validation at registration, and key resolution (inline JWKS, or jwks_uri through jose's remote JWKS client).
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../model/bounded-lru';
import type { Client, ClientJwks } from '../model/client';

/** Members that only a private or symmetric JWK has: a client registers public keys only. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_KEYS = 10;
const MAX_JWKS_BYTES = 16 * 1024;

/**
 * Checks a JWK Set a client registers (RFC 7517 §5, RFC 7591 §2): an object with 1..10 keys, each an
 * asymmetric public key (kty RSA, EC or OKP, no private or symmetric members), distinct `kid`s. Returns
 * the set; throws TypeError with the reason.
 */
export function validateClientJwks(value: unknown): ClientJwks {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new TypeError('a JWK Set is an object with a "keys" array (RFC 7517 §5)');
  }
  if (JSON.stringify(value).length > MAX_JWKS_BYTES) throw new TypeError(`the JWK Set is larger than ${MAX_JWKS_BYTES} bytes`);
  const keys = (value as { keys: unknown[] }).keys;
  if (keys.length === 0 || keys.length > MAX_KEYS) throw new TypeError(`the JWK Set must hold 1 to ${MAX_KEYS} keys`);
  const kids = new Set<string>();
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new TypeError('every key must be a JWK object');
    const jwk = key as Record<string, unknown>;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') {
      throw new TypeError('only asymmetric keys (kty RSA, EC or OKP) can prove a client');
    }
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw new TypeError('the JWK Set must hold public keys only (a private member was found)');
    if (jwk.kid !== undefined) {
      if (typeof jwk.kid !== 'string' || kids.has(jwk.kid)) throw new TypeError('key ids (kid) must be distinct strings');
      kids.add(jwk.kid);
    }
  }
  // jose rejects a malformed key when it is first used; parse now so registration fails instead.
  createLocalJWKSet(value as never);
  return { keys: keys as Record<string, unknown>[] };
}

/** Checks a `jwks_uri` (RFC 7591 §2): https, or http on the loopback interface (development, tests). */
export function validateJwksUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('jwks_uri must be an absolute URL');
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new TypeError('jwks_uri must use https (http only on the loopback interface)');
  }
  if (url.hash !== '' || url.username !== '' || url.password !== '') throw new TypeError('jwks_uri must have no fragment or credentials');
  return url.href;
}

/** How key sets fetched from a `jwks_uri` are kept. */
export interface ClientKeySetOptions {
  /** Most clients whose key set is kept in memory; the least recently used go first. */
  max: number;
  /** jose: no refetch for an unknown kid sooner than this after the last fetch, ms. */
  cooldownMs: number;
  /** jose: a fetched set is fetched again after this, ms. */
  cacheMaxAgeMs: number;
  /** jose: a fetch is abandoned after this, ms. */
  timeoutMs: number;
}

/**
 * The key resolvers of registered clients, one per client and key registration, bounded (LRU). An inline
 * set is parsed once per client version; a `jwks_uri` gets one jose remote JWKS client, which fetches it on
 * first use, keeps it, and refetches when a `kid` it does not know arrives (after a cooldown) — so a
 * client rotates its keys without the server being told.
 */
export class ClientKeySets {
  private readonly cache: LRUCache<string, JWTVerifyGetKey>;

  constructor(private readonly options: ClientKeySetOptions) {
    this.cache = boundedLru<string, JWTVerifyGetKey>(options.max);
  }

  /** The client's key resolver, or undefined when it registered no keys. */
  resolverFor(client: Client): JWTVerifyGetKey | undefined {
    if (client.jwks && client.jwks.keys.length > 0) {
      const cacheKey = `jwks ${client.id} ${client.version}`;
      let resolver = this.cache.get(cacheKey);
      if (!resolver) {
        resolver = createLocalJWKSet(client.jwks as never);
        this.cache.set(cacheKey, resolver);
      }
      return resolver;
    }
    if (client.jwksUri) {
      // Keyed on the URI, not the version: an unrelated change to the client keeps the fetched keys.
      const cacheKey = `uri ${client.id} ${client.jwksUri}`;
      let resolver = this.cache.get(cacheKey);
      if (!resolver) {
        resolver = createRemoteJWKSet(new URL(client.jwksUri), {
          cooldownDuration: this.options.cooldownMs,
          cacheMaxAge: this.options.cacheMaxAgeMs,
          timeoutDuration: this.options.timeoutMs,
        });
        this.cache.set(cacheKey, resolver);
      }
      return resolver;
    }
    return undefined;
  }
}
