// The `key` commands of the CLI: list the published signing keys, rotate the active one, retire one at once.
import { KeyRing } from '../../core/issuing/keyring';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../../core/tokens/keys';
import { signingKeyState } from '../../core/model/key';
import { DEFAULTS } from '../../options';
import { CommandError, PROGRAM, UsageError, type Command, type Noun } from '../command';
import { isoTime, parseDuration, table } from '../format';
import { isSealedPrivateKey } from '../../core/tokens/key-encryption';
import type { CliContext } from '../context';

/** Shortest --token-lifetime: below it a rotation would cut live tokens; `key retire` is for that. */
const MIN_TOKEN_LIFETIME = 60;
/** Longest --token-lifetime: the longest accessTokenLifetime (1 day) plus 5 minutes of clock tolerance. */
const MAX_TOKEN_LIFETIME = 86_400 + 300;
/** Longest --publish-ahead: the longest keyPublishAhead. */
const MAX_PUBLISH_AHEAD = 7 * 86_400;

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
      // next (published, signs from activate_at), active, or retiring (published until retire_at).
      state: signingKeyState(k),
      created_at: isoTime(k.createdAt),
      activate_at: isoTime(k.activateAt ?? null),
      retire_at: isoTime(k.retireAt),
      // Whether a copy of the database is enough to sign with this key.
      private_key: privateKeyState(k.privateKeyPem, ctx),
    }));
    if (ctx.json) return ctx.printJson(rows);
    if (rows.length === 0) return ctx.print('no signing keys yet (the server creates one on first use)');
    ctx.print(
      table(
        ['KID', 'ALG', 'STATE', 'CREATED', 'SIGNS FROM', 'RETIRES', 'PRIVATE KEY'],
        rows.map((r) => [r.kid, r.alg, r.state, r.created_at ?? '', r.activate_at ?? '', r.retire_at ?? '', r.private_key]),
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
    'publish-ahead': {
      type: 'string',
      value: 'DURATION',
      description: `publish the new key now and let it sign only after DURATION (1s to ${MAX_PUBLISH_AHEAD / 86_400}d): at least what resource servers cache the JWKS for`,
    },
  },
  details: [
    'Running servers sign with the new key within their syncInterval (default 500 ms);',
    'resource servers fetch it on the first token that names it.',
    "The old key's private half is deleted at once; its public half stays published for --token-lifetime.",
    'With --publish-ahead the new key is only published (JWKS) now; every server signs with it from then on,',
    'and the first to sign promotes it, keeping the old key published for its own',
    'accessTokenLifetime + clockTolerance + keyPublishAhead (so --token-lifetime does not apply).',
    `Example: ${PROGRAM} key rotate --token-lifetime 1h`,
    `Example: ${PROGRAM} key rotate --publish-ahead 10m`,
  ],
  async run(input, ctx) {
    if (typeof input.options['publish-ahead'] === 'string') return publishAhead(input.options, ctx);
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
    ctx.audit.record('key.rotated', { kid, previousKid, previousRetireAt: retireAt, scheduled: false });
    if (ctx.json) {
      ctx.printJson({ kid, alg, previous_kid: previousKid ?? null, previous_retire_at: previousKid ? isoTime(retireAt) : null });
    } else {
      ctx.print(`signing key ${kid} (${alg}) is now active`);
      if (previousKid) ctx.print(`key ${previousKid} stays published until ${isoTime(retireAt) as string}`);
    }
  },
};

/** `key rotate --publish-ahead`: the next key, published now, signing later (issue 15's publish-before-use). */
async function publishAhead(options: Record<string, unknown>, ctx: CliContext): Promise<void> {
  if (options['token-lifetime'] !== undefined) {
    throw new UsageError('--token-lifetime does not go with --publish-ahead: the server that promotes the key keeps the old one published');
  }
  const ahead = parseDuration(options['publish-ahead'] as string, '--publish-ahead');
  if (ahead < 1 || ahead > MAX_PUBLISH_AHEAD) throw new UsageError(`--publish-ahead must be from 1s to ${MAX_PUBLISH_AHEAD / 86_400}d`);
  const requested = options.alg;
  if (requested !== undefined && !SIGNING_ALGORITHMS.includes(requested as SigningAlgorithm)) {
    throw new UsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  }
  const store = ctx.openStore();
  const [active] = (await store.listSigningKeys(ctx.now())).filter((k) => k.active);
  const alg = (requested as SigningAlgorithm | undefined) ?? active?.alg ?? DEFAULTS.signingAlgorithm;
  const ring = keyRing(ctx, alg);
  // The next key follows an active one: on an empty database, the first key is made now.
  const current = await ring.getSigner();
  const activateAt = ctx.now() + ahead * 1000;
  const next = await ring.publishNext(activateAt);
  if (!next) throw new CommandError('the active key changed meanwhile; run the command again');
  if (!next.published) {
    throw new CommandError(`key ${next.kid} is already published and signs from ${isoTime(next.activateAt) as string} (see '${PROGRAM} key list')`);
  }
  ctx.events.record('key.published', { kid: next.kid, activateAt: next.activateAt, scheduled: false });
  if (ctx.json) return ctx.printJson({ kid: next.kid, alg, activate_at: isoTime(next.activateAt), active_kid: current.kid });
  ctx.print(`signing key ${next.kid} (${alg}) is published and signs from ${isoTime(next.activateAt) as string}`);
  ctx.print(`key ${current.kid} signs until then`);
}

const retire: Command = {
  summary: 'Take a signing key out of service now: tokens it signed stop verifying at once',
  args: ['KID'],
  details: [
    'For a key that must go now (leaked, or found in a backup). The active key is replaced by a new one first.',
    'Running servers stop trusting it within their syncInterval (default 500 ms), this process at once;',
    'remote resource servers drop it from their JWKS cache on their next refresh.',
    `Example: ${PROGRAM} key retire 3Jz0...`,
    `A KID may start with "-" (it is base64url) and is read as the KID; one that starts with "--" goes after "--": ${PROGRAM} key retire -- --Jz0...`,
  ],
  async run(input, ctx) {
    const kid = input.args.KID as string;
    const store = ctx.openStore();
    const [active] = (await store.listSigningKeys(ctx.now())).filter((k) => k.active);
    const alg = active?.alg ?? DEFAULTS.signingAlgorithm;
    const { found, newKid } = await keyRing(ctx, alg).retire(kid);
    if (!found) throw new CommandError(`no signing key ${JSON.stringify(kid)} in service (see '${PROGRAM} key list')`);
    if (newKid !== undefined) {
      ctx.audit.record('key.rotated', { kid: newKid, previousKid: kid, previousRetireAt: ctx.now(), scheduled: false });
    }
    ctx.audit.record('key.retired', { kid });
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
