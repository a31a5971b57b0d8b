// The `token` commands of the CLI: `token get` prints an access token for scripts (the secret from a file or the environment, never an argument); `token list` and `token revoke` for operators.
import { readFile } from 'node:fs/promises';
import { createTokenClient } from '../../client/token-client';
import { CLIENT_AUTH_METHODS, type ClientAuthMethod } from '../../client/client-auth';
import { TokenClientError } from '../../client/errors';
import { CommandError, PROGRAM, UsageError, type Command, type Noun } from '../command';
import type { CliContext } from '../context';
import { table } from '../format';

/** The environment variable `token get` reads the client secret from when no file is given. */
export const CLIENT_SECRET_ENV = 'OAUTH_CLIENT_SECRET';

/** The secret: the file's first line, else the environment. An argument would show in `ps` and shell history. */
async function readSecret(file: string | undefined, ctx: CliContext): Promise<string> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err: unknown) {
      const code = (err as { code?: unknown } | null)?.code;
      throw new CommandError(`cannot read the client secret file ${file}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
    const secret = text.split(/\r?\n/)[0] ?? '';
    if (secret === '') throw new UsageError(`the client secret file ${file} is empty`);
    return secret;
  }
  const secret = ctx.env[CLIENT_SECRET_ENV];
  if (!secret) throw new UsageError(`give the client secret in a file (--client-secret-file PATH) or in $${CLIENT_SECRET_ENV}`);
  return secret;
}

const get: Command = {
  summary: 'Print an access token from an authorization server (client credentials grant) for scripts',
  options: {
    issuer: { type: 'string', value: 'URL', description: 'the issuer; its token endpoint is read from RFC 8414 metadata' },
    'token-endpoint': { type: 'string', value: 'URL', description: 'the token endpoint itself (instead of --issuer)' },
    'client-id': { type: 'string', value: 'ID', description: 'the client id', required: true },
    'client-secret-file': { type: 'string', value: 'PATH', description: `file whose first line is the secret (default: $${CLIENT_SECRET_ENV})` },
    scope: { type: 'string', value: 'SCOPES', description: 'space-separated scopes to ask for' },
    resource: { type: 'string', value: 'URI', description: 'RFC 8707 resource (audience) to ask for' },
    'auth-method': { type: 'string', value: 'METHOD', description: `${CLIENT_AUTH_METHODS.join(' or ')} (default client_secret_basic)` },
    'allow-insecure-http': { type: 'boolean', description: 'allow plain http to a server that is not on this machine' },
  },
  details: [
    'Prints the token alone on stdout; --json prints access_token, token_type, expires_in and scope.',
    `The secret is never an argument (it would show in ps and shell history): --client-secret-file or $${CLIENT_SECRET_ENV}.`,
    `Example: TOKEN=$(${PROGRAM} token get --issuer https://auth.internal --client-id ID --client-secret-file ./secret --scope read)`,
  ],
  async run(input, ctx) {
    const o = input.options as Record<string, string | boolean | undefined>;
    const issuer = o.issuer as string | undefined;
    const tokenEndpoint = o['token-endpoint'] as string | undefined;
    if ((issuer === undefined) === (tokenEndpoint === undefined)) throw new UsageError('give --issuer URL or --token-endpoint URL');
    const method = o['auth-method'] as string | undefined;
    if (method !== undefined && !CLIENT_AUTH_METHODS.includes(method as ClientAuthMethod)) {
      throw new UsageError(`--auth-method must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
    }
    const clientSecret = await readSecret(o['client-secret-file'] as string | undefined, ctx);
    let client;
    try {
      client = createTokenClient({
        ...(issuer !== undefined ? { issuer } : { tokenEndpoint: tokenEndpoint as string }),
        clientId: o['client-id'] as string,
        clientSecret,
        ...(method !== undefined ? { clientAuthMethod: method as ClientAuthMethod } : {}),
        ...(typeof o.scope === 'string' ? { scope: o.scope } : {}),
        ...(typeof o.resource === 'string' ? { resource: o.resource } : {}),
        allowInsecureRequests: o['allow-insecure-http'] === true,
        now: ctx.now,
      });
    } catch (err: unknown) {
      // Option checks throw TypeError with a message that names the option, never the secret.
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    try {
      const token = await client.getToken();
      if (ctx.json) {
        ctx.printJson({
          access_token: token.accessToken,
          token_type: token.tokenType,
          ...(token.expiresAt !== undefined ? { expires_in: Math.max(0, Math.round((token.expiresAt - ctx.now()) / 1000)) } : {}),
          scope: token.scopes.join(' '),
        });
      } else {
        ctx.print(token.accessToken);
      }
    } catch (err: unknown) {
      if (err instanceof TokenClientError) throw new CommandError(`no token: ${err.message}${err.status ? ` (HTTP ${err.status})` : ''}`);
      throw err;
    } finally {
      client.close();
    }
  },
};

const list: Command = {
  summary: "List a client's live reference tokens (their jti and claims, never the tokens)",
  options: {
    client: { type: 'string', value: 'ID', description: 'the client', required: true },
    limit: { type: 'string', value: 'N', description: 'at most N tokens, soonest to expire first (default 100)' },
  },
  details: ['JWTs are not stored: revoke one by the jti your logs or audit events (token.issued) name.'],
  async run(input, ctx) {
    const limit = input.options.limit;
    if (limit !== undefined && (!/^[0-9]{1,4}$/.test(limit as string) || Number(limit) < 1 || Number(limit) > 1000)) {
      throw new UsageError('--limit must be an integer from 1 to 1000');
    }
    const tokens = await ctx.tokens().liveTokens(input.options.client as string, limit === undefined ? 100 : Number(limit));
    if (ctx.json) return ctx.printJson(tokens);
    if (tokens.length === 0) return ctx.note('no live reference tokens');
    ctx.print(table(['JTI', 'SCOPE', 'EXPIRES'], tokens.map((t) => [t.jti, t.scope, t.expires_at])));
  },
};

const revoke: Command = {
  summary: "Revoke any client's token (JWT or reference) by its jti, as an operator",
  args: ['JTI'],
  options: { client: { type: 'string', value: 'ID', description: 'the client the token was issued to', required: true } },
  details: [
    'Running servers stop accepting it within their syncInterval. RFC 7009 revocation is for the client itself;',
    'this is for an operator (a token reported leaked, say).',
    `Example: ${PROGRAM} token revoke lq3v9k2.Zm9v... --client 3f2a...`,
  ],
  async run(input, ctx) {
    const jti = input.args.JTI as string;
    const revoked = await ctx.tokens().revoke(input.options.client as string, jti);
    if (ctx.json) return ctx.printJson({ jti, revoked: true, already_revoked: !revoked });
    ctx.print(revoked ? `token ${jti} revoked` : `token ${jti} was revoked already`);
  },
};

export const tokenNoun: Noun = {
  name: 'token',
  summary: 'Get access tokens from an authorization server (the calling side); list and revoke tokens as an operator',
  commands: { get, list, revoke },
};
