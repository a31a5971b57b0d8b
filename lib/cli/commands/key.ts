// The `key` commands of the CLI: list the published signing keys, rotate the active one, retire one at once.
import { KeyRing } from '../../core/issuing/keyring';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../../core/tokens/keys';
import { DEFAULTS } from '../../options';
import { CommandError, PROGRAM, UsageError, type Command, type Noun } from '../command';
import { isoTime, parseDuration, table } from '../format';
import { isSealedPrivateKey } from '../../core/tokens/key-encryption';
import type { CliContext } from '../context';

/** Shortest --token-lifetime: below it a rotation would cut live tokens; `key retire` is for that. */
const MIN_TOKEN_LIFETIME = 60;
/** Longest --token-lifetime: the longest accessTokenLifetime (1 day) plus 5 minutes of clock tolerance. */
const MAX_TOKEN_LIFETIME = 86_400 + 300;

/** What a copy of the database holds of a key's private half; `older secret` while a secret rotation is under way. */
function privateKeyState(stored: string | null, ctx: CliContext): string {
  if (stored === null) return 'dropped';
  if (!isSealedPrivateKey(stored)) return 'clear';
  return ctx.keyEncryption?.needsReseal(stored) ? 'encrypted (older secret)' : 'encrypted';
}

/** The key ring the server would use, with the same key secret (OAUTH_KEY_SECRET). */
function keyRing(ctx: CliContext, alg: SigningAlgorithm): KeyRing {
  return new KeyRing(ctx.openStore(), alg, ctx.now, { encryption: ctx.keyEncryption });
}

const list: Command = {
  summary: 'List the signing keys still published in the JWKS, the active one first',
  async run(_input, ctx) {
    const keys = await ctx.openStore().listSigningKeys(ctx.now());
    const rows = keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      active: k.active,
      created_at: isoTime(k.createdAt),
      retire_at: isoTime(k.retireAt),
      // Whether a copy of the database is enough to sign with this key.
      private_key: privateKeyState(k.privateKeyPem, ctx),
    }));
    if (ctx.json) return ctx.printJson(rows);
    if (rows.length === 0) return ctx.print('no signing keys yet (the server creates one on first use)');
    ctx.print(
      table(
        ['KID', 'ALG', 'ACTIVE', 'CREATED', 'RETIRES', 'PRIVATE KEY'],
        rows.map((r) => [r.kid, r.alg, r.active ? 'yes' : 'no', r.created_at ?? '', r.retire_at ?? '', r.private_key]),
      ),
    );
  },
};

const rotate: Command = {
  summary: 'Make a new signing key active; the old one stays published until its tokens expired',
  options: {
    'token-lifetime': {
      type: 'string',
      value: 'DURATION',
      description: `the servers' longest access token lifetime plus clock tolerance, ${MIN_TOKEN_LIFETIME}s to ${MAX_TOKEN_LIFETIME}s (default ${DEFAULTS.accessTokenLifetime + DEFAULTS.clockTolerance}s)`,
    },
    alg: { type: 'string', value: 'ALG', description: `${SIGNING_ALGORITHMS.join(' or ')} (default: the active key's)` },
  },
  details: [
    'Running servers sign with the new key within their syncInterval (default 500 ms);',
    'resource servers fetch it on the first token that names it.',
    "The old key's private half is deleted at once; its public half stays published for --token-lifetime.",
    `Example: ${PROGRAM} key rotate --token-lifetime 1h`,
  ],
  async run(input, ctx) {
    const lifetime =
      typeof input.options['token-lifetime'] === 'string'
        ? parseDuration(input.options['token-lifetime'], '--token-lifetime')
        : DEFAULTS.accessTokenLifetime + DEFAULTS.clockTolerance;
    // Too short cuts tokens still in use (use key retire to do that on purpose); too long is a typo.
    if (lifetime < MIN_TOKEN_LIFETIME || lifetime > MAX_TOKEN_LIFETIME) {
      throw new UsageError(`--token-lifetime must be from ${MIN_TOKEN_LIFETIME}s to ${MAX_TOKEN_LIFETIME}s (a day plus clock tolerance)`);
    }
    const requested = input.options.alg;
    if (requested !== undefined && !SIGNING_ALGORITHMS.includes(requested as SigningAlgorithm)) {
      throw new UsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
    }
    const store = ctx.openStore();
    const [active] = (await store.listSigningKeys(ctx.now())).filter((k) => k.active);
    const alg = (requested as SigningAlgorithm | undefined) ?? active?.alg ?? DEFAULTS.signingAlgorithm;
    const retireAt = ctx.now() + lifetime * 1000;
    const { kid, previousKid } = await keyRing(ctx, alg).rotate(retireAt);
    ctx.events.record('key.rotated', { kid, previousKid, previousRetireAt: retireAt, scheduled: false });
    if (ctx.json) {
      ctx.printJson({ kid, alg, previous_kid: previousKid ?? null, previous_retire_at: previousKid ? isoTime(retireAt) : null });
    } else {
      ctx.print(`signing key ${kid} (${alg}) is now active`);
      if (previousKid) ctx.print(`key ${previousKid} stays published until ${isoTime(retireAt) as string}`);
    }
  },
};

const retire: Command = {
  summary: 'Take a signing key out of service now: tokens it signed stop verifying at once',
  args: ['KID'],
  details: [
    'For a key that must go now (leaked, or found in a backup). The active key is replaced by a new one first.',
    'Running servers stop trusting it within their syncInterval (default 500 ms), this process at once;',
    'remote resource servers drop it from their JWKS cache on their next refresh.',
    `Example: ${PROGRAM} key retire 3Jz0...`,
  ],
  async run(input, ctx) {
    const kid = input.args.KID as string;
    const store = ctx.openStore();
    const [active] = (await store.listSigningKeys(ctx.now())).filter((k) => k.active);
    const alg = active?.alg ?? DEFAULTS.signingAlgorithm;
    const { found, newKid } = await keyRing(ctx, alg).retire(kid);
    if (!found) throw new CommandError(`no signing key ${JSON.stringify(kid)} in service (see '${PROGRAM} key list')`);
    if (newKid !== undefined) {
      ctx.events.record('key.rotated', { kid: newKid, previousKid: kid, previousRetireAt: ctx.now(), scheduled: false });
    }
    ctx.events.record('key.retired', { kid });
    if (ctx.json) return ctx.printJson({ retired: kid, active: newKid ?? active?.kid ?? null });
    ctx.print(`signing key ${kid} is retired: it verifies nothing from now on`);
    if (newKid !== undefined) ctx.print(`signing key ${newKid} (${alg}) is now active`);
  },
};

export const keyNoun: Noun = {
  name: 'key',
  summary: 'Signing keys: list, rotate, retire',
  commands: { list, rotate, retire },
};
