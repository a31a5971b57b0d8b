// The issuer's key ring: stored signing keys held in memory as KeyObjects, generated on first use, reloaded when the store changes.
import { Reloader } from './reloader';
import { generateSigningKey, loadKey, type LoadedKey, type PublicJwk, type SigningAlgorithm, type StoredSigningKey } from '../tokens/keys';
import { isSealedPrivateKey, KeyEncryption, openWithoutSecret } from '../tokens/key-encryption';
import type { KeyStore } from '../../store/types';

/** How the key ring keeps private keys at rest, and where it reports what it cannot do in the background. */
export interface KeyRingOptions {
  /** Seals new private keys and opens stored ones; without it keys are stored as clear PEM (and a sealed key is an error). */
  encryption?: KeyEncryption | undefined;
  /** Called when sealing stored clear keys fails (the keys still work; the next load tries again). */
  onError?: (err: unknown) => void;
  /** At most one reload per this many ms for unknown key ids. */
  unknownKidCooldownMs?: number;
  /**
   * Called when {@link KeyRing.getSigner} signs with the next key because its `activateAt` has come
   * while the store still names the previous key active: the caller promotes it in the store (the
   * server does, see {@link AuthorizationServer.promoteNextSigningKey}). May be called again until
   * the promotion is seen.
   */
  onNextKeyDue?: () => void;
}

/** Where the key ring stands in the rotation: what a schedule needs to decide. Times are epoch ms. */
export interface RotationState {
  /** The active key and since when it signs (its `activateAt`, else `createdAt`); undefined before the first key. */
  active: { kid: string; since: number } | undefined;
  /** The key published ahead of use, and when it starts signing. */
  next: { kid: string; activateAt: number } | undefined;
}

/** When a key was created, began (or begins) signing, and stops being published (null while signing or next). */
interface KeyLifetime {
  createdAt: number;
  since: number;
  retireAt: number | null;
}

/**
 * Holds the active signing key and every published verification key. Loads from the store once, then
 * serves from memory; {@link KeyRing.invalidate} (on a store change) makes the next use reload, and an
 * unknown `kid` triggers at most one reload per cooldown, so a flood of forged kids cannot hammer the store.
 */
export class KeyRing {
  private keys = new Map<string, LoadedKey>();
  private signer: LoadedKey | undefined;
  /** The key published ahead of use: every instance signs with it from `activateAt`, whether or not the store promoted it yet. */
  private next: { key: LoadedKey; activateAt: number } | undefined;
  private readonly snapshot = new Reloader(() => this.load());
  private lastUnknownKidReload = -Infinity;
  /** kid → when it was created and when it stops being published (null while signing). */
  private lifetimes = new Map<string, KeyLifetime>();

  private readonly unknownKidCooldownMs: number;
  /**
   * Whether this load also reseals keys sealed under a secret other than the first. Only at start-up
   * ({@link prepare}): while a secret rotation rolls out, instances listing the secrets in different
   * orders would otherwise reseal each other's keys back and forth on every change.
   */
  private resealOlder = false;

  constructor(
    private readonly store: KeyStore,
    private readonly algorithm: SigningAlgorithm,
    private readonly now: () => number,
    private readonly options: KeyRingOptions = {},
  ) {
    this.unknownKidCooldownMs = options.unknownKidCooldownMs ?? 1000;
  }

  /**
   * Loads (and opens) the stored keys now, sealing clear ones when a key secret is configured and
   * resealing those under an older secret with the first one.
   * Rejects with a {@link KeyEncryptionError} when a key secret is missing or wrong: call it at
   * start-up so that is said at once, not on the first token request.
   */
  async prepare(): Promise<void> {
    this.resealOlder = true;
    try {
      await this.snapshot.reload();
    } finally {
      this.resealOlder = false;
    }
  }

  /**
   * The key new tokens are signed with; generates and stores one on first use. From its `activateAt`
   * on, that is the next key: each instance switches by its own clock at that instant, so none keeps
   * signing with the previous key until it happens to reload, and the previous key's tokens all
   * expire by the same time everywhere.
   */
  async getSigner(): Promise<LoadedKey> {
    if (this.snapshot.stale || !this.signer) await this.snapshot.reload();
    if (!this.signer) {
      const stored = await this.store.ensureSigningKey(this.sealed(await generateSigningKey(this.algorithm, this.now())));
      this.snapshot.invalidate();
      await this.snapshot.reload();
      if (!this.signer) this.signer = this.remember(stored);
    }
    if (this.next && this.next.activateAt <= this.now()) {
      this.options.onNextKeyDue?.();
      return this.next.key;
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
   * Makes a new key the signer now: the published next key when there is one (resource servers may
   * know it already), else a freshly generated one. The previous key stays published until
   * `previousRetireAt` (when every token it signed has expired). When another instance rotated
   * first (the active key is no longer the one this ring knew), nothing more happens.
   */
  async rotate(previousRetireAt: number): Promise<{ kid: string; previousKid: string | undefined; rotated: boolean }> {
    await this.snapshot.reload();
    const previousKid = this.signer?.kid;
    if (this.next) return this.promoteNext(this.next.key.kid, previousKid, previousRetireAt);
    const candidate = this.sealed(await generateSigningKey(this.algorithm, this.now()));
    const { active, rotated } = await this.store.rotateSigningKey(candidate, previousKid, previousRetireAt);
    this.snapshot.invalidate();
    await this.snapshot.reload();
    return { kid: active.kid, previousKid, rotated };
  }

  /**
   * Publishes a freshly generated key as the next key, signing from `activateAt`: it is in the JWKS
   * from now on, so resource servers that cache the JWKS know it before the first token it signs.
   * When another instance published one first (or rotated meanwhile), its key is kept and resolved.
   */
  async publishNext(activateAt: number): Promise<{ kid: string; activateAt: number; published: boolean } | undefined> {
    await this.snapshot.reload();
    if (this.next) return { kid: this.next.key.kid, activateAt: this.next.activateAt, published: false };
    const candidate = { ...this.sealed(await generateSigningKey(this.algorithm, this.now())), activateAt };
    const { next, published } = await this.store.publishNextSigningKey(candidate, this.signer?.kid);
    this.snapshot.invalidate();
    await this.snapshot.reload();
    return next && { kid: next.kid, activateAt: next.activateAt ?? activateAt, published };
  }

  /**
   * Makes the next key active in the store once its `activateAt` has come (every instance already
   * signs with it by then, see {@link getSigner}): the previous key keeps only its public half,
   * published until `previousRetireAt`. Resolves undefined when no next key is due.
   */
  async promoteDue(previousRetireAt: number): Promise<{ kid: string; previousKid: string | undefined; rotated: boolean } | undefined> {
    await this.snapshot.reload();
    if (!this.next || this.next.activateAt > this.now()) return undefined;
    return this.promoteNext(this.next.key.kid, this.signer?.kid, previousRetireAt);
  }

  private async promoteNext(
    nextKid: string,
    previousKid: string | undefined,
    previousRetireAt: number,
  ): Promise<{ kid: string; previousKid: string | undefined; rotated: boolean }> {
    const { active, rotated } = await this.store.promoteNextSigningKey(nextKid, previousKid, previousRetireAt, this.now());
    this.snapshot.invalidate();
    await this.snapshot.reload();
    return { kid: active?.kid ?? nextKid, previousKid, rotated };
  }

  /** The active and the next key, as a rotation schedule sees them (from memory unless stale). */
  async rotationState(): Promise<RotationState> {
    await this.snapshot.fresh();
    const since = this.signer && this.lifetimes.get(this.signer.kid)?.since;
    return {
      active: this.signer && since !== undefined ? { kid: this.signer.kid, since } : undefined,
      next: this.next && { kid: this.next.key.kid, activateAt: this.next.activateAt },
    };
  }

  /**
   * Takes a key out of service at once (it must go now: leaked, or an algorithm change). The active key
   * is replaced by a new one and retired on the spot; any other key is deleted. Every process stops
   * trusting it on its next reload (the change is watched) and this one at once. Resolves what
   * happened; `found: false` for a kid that is not stored or already retired.
   */
  async retire(kid: string): Promise<{ found: boolean; newKid?: string }> {
    await this.snapshot.reload();
    if (!this.lifetimes.has(kid) || !this.trusted(kid)) return { found: false };
    if (this.signer?.kid === kid) {
      const { kid: newKid } = await this.rotate(this.now());
      return { found: true, newKid };
    }
    const deleted = await this.store.deleteSigningKey(kid);
    this.snapshot.invalidate();
    await this.snapshot.reload();
    return { found: deleted };
  }

  /** Marks the in-memory keys stale: the next use reloads them from the store. */
  invalidate(): void {
    this.snapshot.invalidate();
  }

  private async load(): Promise<void> {
    const stored = await this.store.listSigningKeys(this.now());
    const next = new Map<string, LoadedKey>();
    const lifetimes = new Map<string, KeyLifetime>();
    let signer: LoadedKey | undefined;
    let nextKey: { key: LoadedKey; activateAt: number } | undefined;
    const reseal: { kid: string; from: string; to: string }[] = [];
    for (const s of stored) {
      // Opening throws for a missing or wrong secret: the load fails, and no new key is ever made in its place.
      const loaded = this.keys.get(s.kid) ?? this.open(s);
      const { encryption } = this.options;
      const resealable = !isSealedPrivateKey(s.privateKeyPem ?? '') || this.resealOlder;
      if (encryption && s.privateKeyPem !== null && resealable && encryption.needsReseal(s.privateKeyPem)) {
        reseal.push({ kid: s.kid, from: s.privateKeyPem, to: encryption.seal(s.kid, this.open(s, true)) });
      }
      next.set(s.kid, loaded);
      lifetimes.set(s.kid, lifetimeOf(s));
      if (s.active) signer = loaded;
      else if (s.retireAt === null && typeof s.activateAt === 'number' && (!nextKey || s.activateAt < nextKey.activateAt)) {
        nextKey = { key: loaded, activateAt: s.activateAt };
      }
    }
    this.keys = next;
    this.lifetimes = lifetimes;
    this.signer = signer;
    this.next = nextKey;
    if (reseal.length > 0) {
      // Clear keys (a secret was just configured) or keys under an older secret: sealed under the
      // first secret now. The keys in memory stay as they are, so a failure here costs nothing.
      await this.store.resealSigningKeys(reseal).catch((err: unknown) => this.options.onError?.(err));
    }
  }

  /** A freshly generated key as the store will keep it: its private key sealed when a secret is configured. */
  private sealed(key: StoredSigningKey): StoredSigningKey {
    const { encryption } = this.options;
    if (!encryption || key.privateKeyPem === null) return key;
    return { ...key, privateKeyPem: encryption.seal(key.kid, key.privateKeyPem) };
  }

  /** The stored key parsed, its private key opened first (or, with `pemOnly`, only that PEM). */
  private open(stored: StoredSigningKey): LoadedKey;
  private open(stored: StoredSigningKey, pemOnly: true): string;
  private open(stored: StoredSigningKey, pemOnly?: true): LoadedKey | string {
    const { encryption } = this.options;
    const raw = stored.privateKeyPem;
    const pem = raw === null ? null : encryption ? encryption.open(stored.kid, raw) : openWithoutSecret(stored.kid, raw);
    if (pemOnly) return pem as string;
    return loadKey({ ...stored, privateKeyPem: pem });
  }

  private remember(stored: StoredSigningKey): LoadedKey {
    const key = this.open(stored);
    this.keys.set(key.kid, key);
    this.lifetimes.set(key.kid, lifetimeOf(stored));
    return key;
  }
}

function lifetimeOf(stored: StoredSigningKey): KeyLifetime {
  return { createdAt: stored.createdAt, since: stored.activateAt ?? stored.createdAt, retireAt: stored.retireAt };
}
