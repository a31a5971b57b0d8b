// The `client` commands of the CLI: register, list, show, change scopes and groups, rotate the secret, disable, enable and delete clients.
import { clientView, secretViews, type ClientView } from '../../core/admin/admin-views';
import type { Client } from '../../core/model/client';
import type { ClientWithSecret } from '../../core/admin/registry';
import { PROGRAM, UsageError, type Command, type CommandInput, type Noun } from '../command';
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
    ['grant_types', client.grantTypes.join(' ')],
    ['secrets', secretsSummary(client, now)],
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
  },
  details: [
    'A token request without a scope parameter gets all of the client\'s scopes.',
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
    printWithSecret(
      ctx,
      await ctx.clients({ create: true }).create({ name, scopes, audiences, ...(format ? { tokenFormat: format } : {}) }),
    );
  },
};

const list: Command = {
  summary: 'List the clients',
  async run(_input, ctx) {
    const clients = await ctx.clients().list();
    if (ctx.json) return ctx.printJson(clients.map((c) => clientJson(ctx, c)));
    if (clients.length === 0) return ctx.note('no clients');
    ctx.print(
      table(
        ['CLIENT_ID', 'NAME', 'ENABLED', 'SCOPE'],
        clients.map((c) => [c.id, c.name, c.enabled ? 'yes' : 'no', c.scopes.join(' ')]),
      ),
    );
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

const disable: Command = {
  summary: 'Stop issuing tokens to a client',
  args: ['ID'],
  async run(input, ctx) {
    printChanged(ctx, await ctx.clients().setEnabled(id(input), false), 'disabled');
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
  async run(input, ctx) {
    await ctx.clients().delete(id(input));
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
    rename,
    'rotate-secret': rotateSecret,
    disable,
    enable,
    'add-group': addGroup,
    'remove-group': removeGroup,
    delete: remove,
  },
};
