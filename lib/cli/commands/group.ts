// The `group` commands of the CLI: create, list, show, change the scopes of and delete the groups whose scopes member clients inherit.
import { groupView } from '../../core/admin/admin-views';
import type { Group } from '../../core/model/group';
import { PROGRAM, type Command, type CommandInput, type Noun } from '../command';
import type { CliContext } from '../context';
import { keyValues, table } from '../format';

function name(input: CommandInput): string {
  return input.args.NAME as string;
}

function groupText(group: Group): string {
  const view = groupView(group);
  return keyValues([
    ['name', view.name],
    ['scope', view.scope],
    ['audiences', view.audiences.join(' ')],
    ['members', view.members.join(' ') || '(none)'],
    ['created_at', view.created_at],
    ['updated_at', view.updated_at],
  ]);
}

/** Prints a changed group: the whole group with --json, else one line. */
function printChanged(ctx: CliContext, group: Group, what: string): void {
  if (ctx.json) ctx.printJson(groupView(group));
  else ctx.print(`group ${group.name} ${what}`);
}

const create: Command = {
  summary: 'Create a group: a named set of scopes its member clients may request',
  args: ['NAME'],
  options: {
    scope: { type: 'string', value: '"SCOPE ..."', description: 'space-delimited scopes members may request (RFC 6749 §3.3)' },
  },
  details: [
    'NAME: 1 to 64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.',
    `Example: ${PROGRAM} group create billing --scope "invoices:read invoices:write"`,
  ],
  async run(input, ctx) {
    const scopes = typeof input.options.scope === 'string' ? input.options.scope : '';
    const group = await ctx.groups({ create: true }).create({ name: name(input), scopes });
    printChanged(ctx, group, `created; members may request: ${group.scopes.join(' ') || '(no scopes)'}`);
  },
};

const setAudience: Command = {
  summary: 'Replace the audiences (RFC 8707 resources) members may ask tokens for',
  args: ['NAME', 'AUDIENCE'],
  details: ['AUDIENCE is one space-delimited argument; "" removes every audience.'],
  async run(input, ctx) {
    const audiences = (input.args.AUDIENCE as string).split(' ').filter((a) => a !== '');
    const group = await ctx.groups().update(name(input), { audiences });
    printChanged(ctx, group, `members may now ask for: ${group.audiences.join(' ') || '(the default audience only)'}`);
  },
};

const list: Command = {
  summary: 'List the groups',
  async run(_input, ctx) {
    const groups = await ctx.groups().list();
    if (ctx.json) return ctx.printJson(groups.map(groupView));
    if (groups.length === 0) return ctx.note('no groups');
    ctx.print(table(['NAME', 'MEMBERS', 'SCOPE'], groups.map((g) => [g.name, String(g.members.length), g.scopes.join(' ')])));
  },
};

const show: Command = {
  summary: 'Show one group: its scopes and member clients',
  args: ['NAME'],
  async run(input, ctx) {
    const group = await ctx.groups().get(name(input));
    if (ctx.json) ctx.printJson(groupView(group));
    else ctx.print(groupText(group));
  },
};

const setScope: Command = {
  summary: 'Replace the scopes of a group; members see the change from their next token request',
  args: ['NAME', 'SCOPE'],
  details: ['SCOPE is one space-delimited argument, e.g. "read write"; "" removes every scope.'],
  async run(input, ctx) {
    const group = await ctx.groups().setScopes(name(input), input.args.SCOPE as string);
    printChanged(ctx, group, `members may now request: ${group.scopes.join(' ') || '(no scopes)'}`);
  },
};

const remove: Command = {
  summary: 'Delete a group; refused while clients are in it, unless --force',
  args: ['NAME'],
  options: { force: { type: 'boolean', description: 'delete it anyway: its members lose its scopes' } },
  async run(input, ctx) {
    await ctx.groups().delete(name(input), { force: input.options.force === true });
    if (ctx.json) ctx.printJson({ name: name(input), deleted: true });
    else ctx.print(`group ${name(input)} deleted`);
  },
};

/** `express-client-credentials group ...` */
export const groupNoun: Noun = {
  name: 'group',
  summary: 'Manage groups: named sets of scopes that member clients inherit.',
  commands: { create, list, show, 'set-scope': setScope, 'set-audience': setAudience, delete: remove },
};
