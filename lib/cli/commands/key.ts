// The `key` commands of the CLI: list the published signing keys and rotate the active one.
import { KeyRing } from '../../core/issuing/keyring';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../../core/tokens/keys';
import { DEFAULTS } from '../../options';
import { PROGRAM, UsageError, type Command, type Noun } from '../command';
import { isoTime, parseDuration, table } from '../format';

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
    }));
    if (ctx.json) return ctx.printJson(rows);
    if (rows.length === 0) return ctx.print('no signing keys yet (the server creates one on first use)');
    ctx.print(
      table(
        ['KID', 'ALG', 'ACTIVE', 'CREATED', 'RETIRES'],
        rows.map((r) => [r.kid, r.alg, r.active ? 'yes' : 'no', r.created_at ?? '', r.retire_at ?? '']),
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
      description: `the servers' access token lifetime plus clock tolerance (default ${DEFAULTS.accessTokenLifetime + DEFAULTS.clockTolerance}s)`,
    },
    alg: { type: 'string', value: 'ALG', description: `${SIGNING_ALGORITHMS.join(' or ')} (default: the active key's)` },
  },
  details: [
    'Running servers sign with the new key within their syncInterval (default 500 ms);',
    'resource servers fetch it on the first token that names it.',
    `Example: ${PROGRAM} key rotate --token-lifetime 1h`,
  ],
  async run(input, ctx) {
    const lifetime =
      typeof input.options['token-lifetime'] === 'string'
        ? parseDuration(input.options['token-lifetime'], '--token-lifetime')
        : DEFAULTS.accessTokenLifetime + DEFAULTS.clockTolerance;
    const requested = input.options.alg;
    if (requested !== undefined && !SIGNING_ALGORITHMS.includes(requested as SigningAlgorithm)) {
      throw new UsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
    }
    const store = ctx.openStore();
    const [active] = (await store.listSigningKeys(ctx.now())).filter((k) => k.active);
    const alg = (requested as SigningAlgorithm | undefined) ?? active?.alg ?? DEFAULTS.signingAlgorithm;
    const retireAt = ctx.now() + lifetime * 1000;
    const { kid, previousKid } = await new KeyRing(store, alg, ctx.now).rotate(retireAt);
    ctx.events.record('key.rotated', { kid, previousKid, previousRetireAt: retireAt, scheduled: false });
    if (ctx.json) {
      ctx.printJson({ kid, alg, previous_kid: previousKid ?? null, previous_retire_at: previousKid ? isoTime(retireAt) : null });
    } else {
      ctx.print(`signing key ${kid} (${alg}) is now active`);
      if (previousKid) ctx.print(`key ${previousKid} stays published until ${isoTime(retireAt) as string}`);
    }
  },
};

export const keyNoun: Noun = {
  name: 'key',
  summary: 'Signing keys: list, rotate',
  commands: { list, rotate },
};
