// The issuer's key ring: stored signing keys held in memory as KeyObjects, generated on first use, reloaded when the store changes.
import { Reloader } from './reloader';
import { generateSigningKey, loadKey, type LoadedKey, type PublicJwk, type SigningAlgorithm, type StoredSigningKey } from '../tokens/keys';
import type { KeyStore } from '../../store/types';

/**
 * Holds the active signing key and every published verification key. Loads from the store once, then
 * serves from memory; {@link KeyRing.invalidate} (on a store change) makes the next use reload, and an
 * unknown `kid` triggers at most one reload per cooldown, so a flood of forged kids cannot hammer the store.
 */
export class KeyRing {
  private keys = new Map<string, LoadedKey>();
  private signer: LoadedKey | undefined;
  private readonly snapshot = new Reloader(() => this.load());
  private lastUnknownKidReload = -Infinity;
  /** kid → when it was created and when it stops being published (null while signing). */
  private lifetimes = new Map<string, { createdAt: number; retireAt: number | null }>();

  constructor(
    private readonly store: KeyStore,
    private readonly algorithm: SigningAlgorithm,
    private readonly now: () => number,
    private readonly unknownKidCooldownMs = 1000,
  ) {}

  /** The key new tokens are signed with; generates and stores one on first use. */
  async getSigner(): Promise<LoadedKey> {
    if (this.snapshot.stale || !this.signer) await this.snapshot.reload();
    if (!this.signer) {
      const stored = await this.store.ensureSigningKey(await generateSigningKey(this.algorithm, this.now()));
      this.snapshot.invalidate();
      await this.snapshot.reload();
      if (!this.signer) this.signer = this.remember(stored);
    }
    return this.signer;
  }

  /**
   * The verification key for `kid`: from memory when known, else after one (rate-limited) reload.
   * A key past its `retireAt` verifies nothing, whether or not a reload happened since: it left the
   * JWKS at that instant, and every token it legitimately signed has expired by then.
   */
  resolve = (kid: string): LoadedKey | undefined | Promise<LoadedKey | undefined> => {
    const known = !this.snapshot.stale ? this.keys.get(kid) : undefined;
    if (known) return this.trusted(kid) ? known : undefined;
    return this.resolveSlow(kid);
  };

  /** Whether `kid` is a key in memory that may still verify tokens now (not past its `retireAt`). */
  trusted(kid: string): boolean {
    const lifetime = this.lifetimes.get(kid);
    if (!lifetime || !this.keys.has(kid)) return false;
    return lifetime.retireAt === null || lifetime.retireAt > this.now();
  }

  private async resolveSlow(kid: string): Promise<LoadedKey | undefined> {
    if (!this.snapshot.stale && !this.keys.has(kid)) {
      const now = this.now();
      if (now - this.lastUnknownKidReload < this.unknownKidCooldownMs) return undefined;
      this.lastUnknownKidReload = now;
      this.snapshot.invalidate();
    }
    await this.snapshot.reload();
    return this.trusted(kid) ? this.keys.get(kid) : undefined;
  }

  /** Public keys to publish (RFC 7517), active first; a key past its `retire_at` is dropped without waiting for a reload. */
  async publicJwks(): Promise<PublicJwk[]> {
    await this.snapshot.fresh();
    return [...this.keys.values()].filter((k) => this.trusted(k.kid)).map((k) => k.jwk);
  }

  /**
   * Makes a freshly generated key the signer. The previous key stays published until
   * `previousRetireAt` (when every token it signed has expired). When another instance rotated
   * first (the active key is no longer the one this ring knew), nothing more happens.
   */
  async rotate(previousRetireAt: number): Promise<{ kid: string; previousKid: string | undefined; rotated: boolean }> {
    await this.snapshot.reload();
    const previousKid = this.signer?.kid;
    const candidate = await generateSigningKey(this.algorithm, this.now());
    const { active, rotated } = await this.store.rotateSigningKey(candidate, previousKid, previousRetireAt);
    this.snapshot.invalidate();
    await this.snapshot.reload();
    return { kid: active.kid, previousKid, rotated };
  }

  /** When the active key was created (epoch ms), or undefined before the first key exists. */
  async activeKeyCreatedAt(): Promise<number | undefined> {
    await this.snapshot.fresh();
    return this.signer && this.lifetimes.get(this.signer.kid)?.createdAt;
  }

  /** Marks the in-memory keys stale: the next use reloads them from the store. */
  invalidate(): void {
    this.snapshot.invalidate();
  }

  private async load(): Promise<void> {
    const stored = await this.store.listSigningKeys(this.now());
    const next = new Map<string, LoadedKey>();
    const lifetimes = new Map<string, { createdAt: number; retireAt: number | null }>();
    let signer: LoadedKey | undefined;
    for (const s of stored) {
      const loaded = this.keys.get(s.kid) ?? loadKey(s);
      next.set(s.kid, loaded);
      lifetimes.set(s.kid, { createdAt: s.createdAt, retireAt: s.retireAt });
      if (s.active) signer = loaded;
    }
    this.keys = next;
    this.lifetimes = lifetimes;
    this.signer = signer;
  }

  private remember(stored: StoredSigningKey): LoadedKey {
    const key = loadKey(stored);
    this.keys.set(key.kid, key);
    this.lifetimes.set(key.kid, { createdAt: stored.createdAt, retireAt: stored.retireAt });
    return key;
  }
}
