// Stateless DPoP server nonces (RFC 9449 §8, §9): an HMAC of the current time step under a server secret, so every instance with the secret agrees without storage.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the nonce issuer needs: secrets (the first signs, all verify, so a secret can rotate) and the step length. */
export interface DpopNonceOptions {
  /** Server secrets, each at least 32 bytes; the first makes new nonces, the others are still accepted. */
  secrets: readonly (string | Buffer)[];
  /** Length of a time step, seconds; a nonce is accepted in its own step and the next. */
  stepSeconds: number;
}

const MIN_SECRET_BYTES = 32;
const TAG_BYTES = 16;

/**
 * Issues and checks nonces `<step>.<tag>`, where tag = HMAC-SHA-256(secret, "dpop-nonce:" + step)
 * truncated to 128 bits. A nonce stays good for one to two steps; nothing is stored, and instances that
 * share the secrets accept each other's nonces. Rotate by putting a new secret first and keeping the
 * old one second for a step.
 *
 * @example
 * const nonces = new DpopNonces({ secrets: [process.env.DPOP_NONCE_SECRET!], stepSeconds: 300 });
 * res.set('DPoP-Nonce', nonces.current(Date.now()));
 */
export class DpopNonces {
  private readonly secrets: Buffer[];
  private readonly stepMs: number;

  constructor(options: DpopNonceOptions) {
    if (!Array.isArray(options.secrets) || options.secrets.length === 0) throw new TypeError('DPoP nonces need at least one secret');
    this.secrets = options.secrets.map((s) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s)));
    if (this.secrets.some((s) => s.length < MIN_SECRET_BYTES)) {
      throw new TypeError(`each DPoP nonce secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    if (!Number.isInteger(options.stepSeconds) || options.stepSeconds < 1) throw new TypeError('the DPoP nonce step must be a positive integer (seconds)');
    this.stepMs = options.stepSeconds * 1000;
  }

  /** The nonce of the current step, made with the first secret. */
  current(now: number): string {
    const step = Math.floor(now / this.stepMs);
    return `${step}.${this.tag(this.secrets[0] as Buffer, step).toString('base64url')}`;
  }

  /** Whether `nonce` was made (with any secret) for the current or the previous step. */
  isValid(nonce: string, now: number): boolean {
    const match = /^(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
    if (!match) return false;
    const step = Number(match[1]);
    const current = Math.floor(now / this.stepMs);
    if (step !== current && step !== current - 1) return false;
    const tag = Buffer.from(match[2] as string, 'base64url');
    if (tag.length !== TAG_BYTES) return false;
    return this.secrets.some((secret) => timingSafeEqual(this.tag(secret, step), tag));
  }

  private tag(secret: Buffer, step: number): Buffer {
    return createHmac('sha256', secret).update(`dpop-nonce:${step}`).digest().subarray(0, TAG_BYTES);
  }
}
