// The `client` commands of the CLI: register, list, show, change scopes and groups, rotate the secret, disable, enable and delete clients.
import { clientView, secretViews, type ClientView } from '../../core/admin/admin-views';
import type { Client } from '../../core/model/client';
import { readFile } from 'node:fs/promises';
import type { ClientInput, ClientKeyInput, ClientListQuery, ClientWithSecret } from '../../core/admin/registry';
import { CommandError, PROGRAM, UsageError, type Command, type CommandInput, type Noun } from '../command';
import type { CliContext } from '../context';
import { isoTime, keyValues, parseDuration, table } from '../format';

/** A client as `--json` prints it: the admin API's view (RFC 7591 names where they exist), never a secret or a hash. */
function clientJson(ctx: CliContext, client: Client): ClientView {
  return clientView(client, ctx.now());
}

/** The secrets the client accepts now; an expired previous secret is not listed. */
function secretsSummary(client: Client, now: number): string {
  const secrets = secretViews(client, now);
  if (secrets.length === 0) return 'none';
  return secrets
    .map((s) => (s.status === 'current' ? `current (since ${s.created_at})` : `previous, valid until ${s.expires_at}`))
    .join('; ');
}

function clientText(client: Client, now: number): string {
  return keyValues([
    ['client_id', client.id],
    ['name', client.name],
    ['enabled', client.enabled ? 'yes' : 'no'],
    ['scope', client.scopes.join(' ')],
    ['groups', client.groups.join(' ') || '(none)'],
    ['effective_scope', client.effectiveScopes.join(' ')],
    ['audiences', client.audiences.join(' ')],
    ['token_format', client.tokenFormat],
    ['token_lifetime', client.tokenLifetime === null ? "(the server's)" : `${client.tokenLifetime}s`],
    ['description', client.description],
    ['grant_types', client.grantTypes.join(' ')],
    ['secrets', secretsSummary(client, now)],
    ['keys', client.jwksUri ? `jwks_uri ${client.jwksUri}` : client.jwks ? `${client.jwks.keys.length} inline key(s)` : 'none'],
    ['dpop', client.requireDpop ? 'required' : 'optional'],
    ['created_at', isoTime(client.createdAt) as string],
    ['updated_at', isoTime(client.updatedAt) as string],
  ]);
}

/** Prints a new secret: on stdout, this once, and nowhere else. */
function printWithSecret(ctx: CliContext, { client, clientSecret }: ClientWithSecret): void {
  if (ctx.json) {
    const { client_id, ...rest } = clientJson(ctx, client);
    ctx.printJson({ client_id, client_secret: clientSecret, ...rest });
  } else {
    ctx.print(keyValues([['client_id', client.id], ['client_secret', clientSecret], ['scope', client.scopes.join(' ')]]));
    ctx.note('Store the client secret now: it is shown only this once.');
  }
}

/** Prints a changed client: the whole client with --json, else one line. */
function printChanged(ctx: CliContext, client: Client, what: string): void {
  if (ctx.json) ctx.printJson(clientJson(ctx, client));
  else ctx.print(`client ${client.id} ${what}`);
}

/** `--jwks FILE` (a JWK Set in JSON) or `--jwks-uri URL`; undefined when neither is given. */
async function readKeys(input: CommandInput): Promise<ClientKeyInput | undefined> {
  const file = input.options.jwks;
  const uri = input.options['jwks-uri'];
  if (file !== undefined && uri !== undefined) throw new UsageError('--jwks and --jwks-uri exclude each other');
  if (typeof uri === 'string') return { jwksUri: uri };
  if (typeof file !== 'string') return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: unknown) {
    const code = (err as { code?: unknown } | null)?.code;
    throw new CommandError(`cannot read the JWK Set file ${file}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  try {
    return { jwks: JSON.parse(text) as unknown };
  } catch {
    throw new UsageError(`the JWK Set file ${file} is not JSON`);
  }
}

const KEY_OPTIONS = {
  jwks: { type: 'string', value: 'FILE', description: 'a JWK Set (JSON) of public keys: private_key_jwt, no secret (RFC 7523)' },
  'jwks-uri': { type: 'string', value: 'URL', description: 'where the client publishes its public keys (https): private_key_jwt, no secret' },
} as const;

function id(input: CommandInput): string {
  return input.args.ID as string;
}

const create: Command = {
  summary: 'Register a client; prints its client_id and client_secret once',
  options: {
    name: { type: 'string', value: 'NAME', description: 'a name for people', required: true },
    scope: { type: 'string', value: '"SCOPE ..."', description: 'space-delimited scopes the client may request (RFC 6749 §3.3)' },
    audience: { type: 'string', value: '"URI ..."', description: 'space-delimited audiences it may request with resource= (RFC 8707)' },
    'token-format': { type: 'string', value: 'jwt|reference', description: 'issue JWTs (default) or opaque reference tokens' },
    description: { type: 'string', value: 'TEXT', description: 'free text for people: what it is, who owns it' },
    'token-lifetime': { type: 'string', value: 'DURATION', description: "its tokens' lifetime, e.g. 5m (capped by the server's accessTokenLifetime)" },
    ...KEY_OPTIONS,
    dpop: { type: 'boolean', description: 'refuse token requests without a DPoP proof (RFC 9449 §5.2)' },
  },
  details: [
    'A token request without a scope parameter gets all of the client\'s scopes.',
    'With --jwks or --jwks-uri the client proves itself with signed assertions and gets no secret at all.',
    `Example: ${PROGRAM} client create --name billing --scope "read write"`,
  ],
  async run(input, ctx) {
    const name = input.options.name as string;
    const scopes = typeof input.options.scope === 'string' ? input.options.scope : '';
    const audience = input.options.audience;
    const audiences = typeof audience === 'string' ? audience.split(' ').filter((a) => a !== '') : [];
    const format = input.options['token-format'];
    if (format !== undefined && format !== 'jwt' && format !== 'reference') {
      throw new UsageError('--token-format must be jwt or reference');
    }
    const description = input.options.description as string | undefined;
    const lifetime = input.options['token-lifetime'];
    const clientInput: ClientInput = {
      name,
      scopes,
      audiences,
      ...(format ? { tokenFormat: format } : {}),
      ...(description === undefined ? {} : { description }),
      ...(typeof lifetime === 'string' ? { tokenLifetime: parseDuration(lifetime, '--token-lifetime') } : {}),
      ...(input.options.dpop === true ? { requireDpop: true } : {}),
    };
    const keys = await readKeys(input);
    if (keys) {
      const client = await ctx.clients({ create: true }).createWithKeys(clientInput, keys);
      if (ctx.json) ctx.printJson(clientJson(ctx, client));
      else ctx.print(keyValues([['client_id', client.id], ['scope', client.scopes.join(' ')], ['auth', 'private_key_jwt (no secret)']]));
      return;
    }
    printWithSecret(ctx, await ctx.clients({ create: true }).create(clientInput));
  },
};

/** The filters of `client list`, from its options. */
function listFilters(input: CommandInput): Omit<ClientListQuery, 'limit' | 'cursor'> {
  const filters: Omit<ClientListQuery, 'limit' | 'cursor'> = {};
  const { name, group, scope, enabled } = input.options;
  if (typeof name === 'string') filters.name = name;
  if (typeof group === 'string') filters.group = group;
  if (typeof scope === 'string') filters.scope = scope;
  if (enabled !== undefined) {
    if (enabled !== 'true' && enabled !== 'false') throw new UsageError('--enabled must be true or false');
    filters.enabled = enabled === 'true';
  }
  return filters;
}

const LIST_HEADER = ['CLIENT_ID', 'NAME', 'ENABLED', 'SCOPE'] as const;
const listRow = (c: Client) => [c.id, c.name, c.enabled ? 'yes' : 'no', c.scopes.join(' ')];

/** A JSON array element as JSON.stringify(list, null, 2) would print it, so the streamed array reads the same. */
const arrayItem = (value: unknown) => `  ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}`;

const list: Command = {
  summary: 'List the clients, all of them (streamed page by page) or one page with --limit / --cursor',
  options: {
    limit: { type: 'string', value: 'N', description: 'one page of at most N clients (1 to 1000); prints the cursor of the next' },
    cursor: { type: 'string', value: 'CURSOR', description: 'the page after the one that printed this cursor' },
    name: { type: 'string', value: 'NAME', description: 'only clients with exactly this name' },
    group: { type: 'string', value: 'GROUP', description: 'only members of this group' },
    enabled: { type: 'string', value: 'true|false', description: 'only enabled, or only disabled, clients' },
    scope: { type: 'string', value: 'SCOPE', description: 'only clients holding this scope, directly or through a group' },
  },
  details: [
    'Ordered by client_id. Without --limit or --cursor every matching client is printed, read and written a page at a time:',
    'memory stays flat whatever the registry size. With --json that is one JSON array; with --limit, {"clients": [...], "next_cursor": ...}.',
    `Example: ${PROGRAM} client list --group billing --enabled true --json`,
  ],
  async run(input, ctx) {
    const filters = listFilters(input);
    const registry = ctx.clients();
    const { limit, cursor } = input.options;
    if (limit !== undefined || cursor !== undefined) {
      if (limit !== undefined && !/^[0-9]{1,4}$/.test(limit as string)) throw new UsageError('--limit must be an integer from 1 to 1000');
      const page = await registry.listPage({
        ...filters,
        ...(limit === undefined ? {} : { limit: Number(limit) }),
        ...(typeof cursor === 'string' ? { cursor } : {}),
      });
      if (ctx.json) {
        return ctx.printJson({ clients: page.clients.map((c) => clientJson(ctx, c)), next_cursor: page.nextCursor ?? null });
      }
      if (page.clients.length === 0) ctx.note('no clients');
      else ctx.print(table(LIST_HEADER, page.clients.map(listRow)));
      if (page.nextCursor !== undefined) ctx.note(`more: --cursor ${page.nextCursor}`);
      return;
    }
    // Streamed: a page read, a page written, stdout drained, then the next page.
    let count = 0;
    for await (const clients of registry.pages(filters)) {
      if (ctx.json) {
        ctx.write(`${count === 0 ? '[\n' : ',\n'}${clients.map((c) => arrayItem(clientJson(ctx, c))).join(',\n')}`);
      } else {
        // Columns are aligned within a page; the header comes once.
        const text = table(LIST_HEADER, clients.map(listRow));
        ctx.print(count === 0 ? text : text.slice(text.indexOf('\n') + 1));
      }
      count += clients.length;
      await ctx.drain();
    }
    if (ctx.json) ctx.write(count === 0 ? '[]\n' : '\n]\n');
    else if (count === 0) ctx.note('no clients');
  },
};

const show: Command = {
  summary: 'Show one client: direct and effective scopes, groups, which secrets exist (never a secret)',
  args: ['ID'],
  async run(input, ctx) {
    const client = await ctx.clients().get(id(input));
    if (ctx.json) ctx.printJson(clientJson(ctx, client));
    else ctx.print(clientText(client, ctx.now()));
  },
};

const setScope: Command = {
  summary: 'Replace the scopes a client may request',
  args: ['ID', 'SCOPE'],
  details: ['SCOPE is one space-delimited argument, e.g. "read write"; "" removes every scope.'],
  async run(input, ctx) {
    const client = await ctx.clients().setScopes(id(input), input.args.SCOPE as string);
    printChanged(ctx, client, `may now request: ${client.scopes.join(' ') || '(no scopes)'}`);
  },
};

const setAudience: Command = {
  summary: 'Replace the audiences (RFC 8707 resources) a client may ask tokens for',
  args: ['ID', 'AUDIENCE'],
  details: ['AUDIENCE is one space-delimited argument, e.g. "https://orders.internal billing"; "" removes every audience.'],
  async run(input, ctx) {
    const list = (input.args.AUDIENCE as string).split(' ').filter((a) => a !== '');
    const client = await ctx.clients().setAudiences(id(input), list);
    printChanged(ctx, client, `may now ask for: ${client.audiences.join(' ') || '(the default audience only)'}`);
  },
};

const setJwks: Command = {
  summary: 'Replace the public keys a client signs its assertions with (private_key_jwt)',
  args: ['ID'],
  options: { ...KEY_OPTIONS, none: { type: 'boolean', description: 'remove the keys' } },
  details: [`Example: ${PROGRAM} client set-jwks ID --jwks ./billing.jwks.json`],
  async run(input, ctx) {
    const keys = await readKeys(input);
    if ((keys === undefined) === (input.options.none !== true)) throw new UsageError('give one of --jwks FILE, --jwks-uri URL or --none');
    const client = await ctx.clients().setKeys(id(input), keys ?? null);
    printChanged(ctx, client, keys ? 'keys replaced' : 'keys removed');
  },
};

const setDpop: Command = {
  summary: 'Whether the client\'s tokens must be DPoP-bound (RFC 9449 §5.2)',
  args: ['ID', 'ON'],
  details: ['ON is yes or no.'],
  async run(input, ctx) {
    const on = input.args.ON;
    if (on !== 'yes' && on !== 'no') throw new UsageError('ON must be yes or no');
    const client = await ctx.clients().setRequireDpop(id(input), on === 'yes');
    printChanged(ctx, client, on === 'yes' ? 'must now send DPoP proofs' : 'may now get bearer tokens');
  },
};

const rename: Command = {
  summary: 'Rename a client',
  args: ['ID', 'NAME'],
  async run(input, ctx) {
    const client = await ctx.clients().rename(id(input), input.args.NAME as string);
    printChanged(ctx, client, `renamed to ${client.name}`);
  },
};

const rotateSecret: Command = {
  summary: 'Issue a new secret; prints it once',
  args: ['ID'],
  options: {
    grace: {
      type: 'string',
      value: 'DURATION',
      description: 'how long the previous secret stays valid: 0 (default), 90s, 30m, 24h, 7d',
    },
    'revoke-tokens': { type: 'boolean', description: 'void the tokens issued so far (the default without --grace)' },
    'keep-tokens': { type: 'boolean', description: 'let the tokens issued so far live until they expire (the default with --grace)' },
  },
  details: [
    'With a grace period, deploy the new secret before the old one stops working.',
    'Without one (after a leak), the tokens issued so far stop working too, unless --keep-tokens.',
  ],
  async run(input, ctx) {
    const grace = typeof input.options.grace === 'string' ? parseDuration(input.options.grace, '--grace') : 0;
    const revoke = input.options['revoke-tokens'] === true;
    const keep = input.options['keep-tokens'] === true;
    if (revoke && keep) throw new UsageError('--revoke-tokens and --keep-tokens exclude each other');
    const rotated = await ctx.clients().rotateSecret(id(input), {
      graceSeconds: grace,
      ...(revoke || keep ? { revokeTokens: revoke } : {}),
    });
    printWithSecret(ctx, rotated);
    if (!ctx.json) {
      const previous = rotated.client.secrets.find((s) => s.expiresAt !== null);
      ctx.note(previous ? `The previous secret stays valid until ${isoTime(previous.expiresAt)}.` : 'The previous secret no longer works.');
    }
  },
};

/** `--force`: the guard rail override for the last admin client. */
const FORCE = {
  force: { type: 'boolean', description: 'even when it is the last enabled client holding oauth:admin' },
} as const;

const disable: Command = {
  summary: 'Stop issuing tokens to a client; the tokens it holds stop working too',
  args: ['ID'],
  options: FORCE,
  async run(input, ctx) {
    printChanged(ctx, await ctx.clients().setEnabled(id(input), false, { force: input.options.force === true }), 'disabled');
  },
};

const update: Command = {
  summary: "Change a client's description, token lifetime or token format",
  args: ['ID'],
  options: {
    description: { type: 'string', value: 'TEXT', description: 'free text for people ("" clears it)' },
    'token-lifetime': { type: 'string', value: 'DURATION|default', description: "its tokens' lifetime (capped by the server's); default: the server's" },
    'token-format': { type: 'string', value: 'jwt|reference', description: 'the format of the tokens issued from now on' },
  },
  details: [`Example: ${PROGRAM} client update 3f2a... --token-lifetime 5m --description "nightly export"`],
  async run(input, ctx) {
    const { description, 'token-format': format } = input.options;
    const lifetime = input.options['token-lifetime'];
    if (format !== undefined && format !== 'jwt' && format !== 'reference') throw new UsageError('--token-format must be jwt or reference');
    if (description === undefined && lifetime === undefined && format === undefined) {
      throw new UsageError('nothing to change: give --description, --token-lifetime or --token-format');
    }
    const client = await ctx.clients().update(id(input), {
      ...(typeof description === 'string' ? { description } : {}),
      ...(typeof lifetime === 'string' ? { tokenLifetime: lifetime === 'default' ? null : parseDuration(lifetime, '--token-lifetime') } : {}),
      ...(format === undefined ? {} : { tokenFormat: format as 'jwt' | 'reference' }),
    });
    printChanged(ctx, client, 'updated');
  },
};

const enable: Command = {
  summary: 'Issue tokens to a disabled client again',
  args: ['ID'],
  async run(input, ctx) {
    printChanged(ctx, await ctx.clients().setEnabled(id(input), true), 'enabled');
  },
};

const addGroup: Command = {
  summary: 'Put a client in a group: it may then request the group\'s scopes too',
  args: ['ID', 'GROUP'],
  async run(input, ctx) {
    const client = await ctx.groups().addClient(id(input), input.args.GROUP as string);
    printChanged(ctx, client, `is in group ${input.args.GROUP}; may now request: ${client.effectiveScopes.join(' ') || '(no scopes)'}`);
  },
};

const removeGroup: Command = {
  summary: 'Take a client out of a group',
  args: ['ID', 'GROUP'],
  async run(input, ctx) {
    const client = await ctx.groups().removeClient(id(input), input.args.GROUP as string);
    printChanged(ctx, client, `left group ${input.args.GROUP}; may now request: ${client.effectiveScopes.join(' ') || '(no scopes)'}`);
  },
};

const remove: Command = {
  summary: 'Delete a client and its secrets',
  args: ['ID'],
  options: FORCE,
  async run(input, ctx) {
    await ctx.clients().delete(id(input), { force: input.options.force === true });
    if (ctx.json) ctx.printJson({ client_id: id(input), deleted: true });
    else ctx.print(`client ${id(input)} deleted`);
  },
};

/** `express-client-credentials client ...` */
export const clientNoun: Noun = {
  name: 'client',
  summary: 'Manage OAuth clients: their ids, secrets, scopes and status.',
  commands: {
    create,
    list,
    show,
    'set-scope': setScope,
    'set-audience': setAudience,
    'set-jwks': setJwks,
    'set-dpop': setDpop,
    rename,
    update,
    'rotate-secret': rotateSecret,
    disable,
    enable,
    'add-group': addGroup,
    'remove-group': removeGroup,
    delete: remove,
  },
};
