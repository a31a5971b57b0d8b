// adminRouter(): a JSON REST API over clients and groups behind the admin-scope guard, with its OpenAPI description.
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { clientView, groupView } from '../core/admin/admin-views';
import type { AuthorizationServer } from '../core/issuing/authorization-server';
import type { Client, TokenFormat } from '../core/model/client';
import { RegistryError, validAudiences, validName, validScopes } from '../core/admin/registry';
import { InvalidRequestError, OAuthError } from '../core/model/errors';
import type { ResolvedAdminRouterOptions } from '../options';
import { adminOpenApiDocument } from './admin-openapi';
import { authorizationServerMetadata } from './metadata';
import { bodyParserError, refuseOversizedBodies } from './body-errors';
import { renderOAuthError, setNoStore } from './render';

/** The paths this router answers; its guard and error handler apply to nothing else of the host app. */
const ADMIN_PATHS = ['/clients', '/groups', '/openapi.json'];
const JSON_LIMIT = 16 * 1024;
/** A year: a longer overlap of two secrets is a mistake, not a rollout. */
const MAX_GRACE_SECONDS = 365 * 24 * 3600;
const STATUS = { invalid: 400, not_found: 404, conflict: 409 } as const;

type Body = Record<string, unknown>;

const invalid = (message: string, field?: string) => new RegistryError('invalid', message, field);

/** The JSON object body, refusing fields the operation does not know (a typo must not pass silently). */
function readBody(req: Request, allowed: readonly string[], required: readonly string[] = []): Body {
  // No body at all (Express 5 leaves req.body undefined) reads as an empty object.
  const raw: unknown = req.body ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid('the request body must be a JSON object (Content-Type: application/json)');
  }
  const body = raw as Body;
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw invalid(`unknown field ${JSON.stringify(key)}`, key);
  for (const key of required) if (body[key] === undefined) throw invalid(`${key} is required`, key);
  return body;
}

/** RFC 7591's `client_name`, checked by the registry's rule. */
function clientNameField(value: unknown): string {
  try {
    return validName(value);
  } catch (err) {
    if (err instanceof RegistryError) throw invalid(err.message.replace(/^name\b/, 'client_name'), 'client_name');
    throw err;
  }
}

function scopeField(value: unknown): string[] {
  if (typeof value !== 'string') throw invalid('scope must be a space-delimited string', 'scope');
  return validScopes(value);
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalid(`${field} must be a list of strings`, field);
  return value as string[];
}

function booleanField(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false`, field);
  return value;
}

/** A body sent with another media type is refused rather than ignored; an empty one is no body. */
const requireJson: RequestHandler = (req, _res, next) => {
  const empty = req.headers['content-length'] === '0';
  next(
    req.is('application/json') === false && !empty
      ? new InvalidRequestError('the request body must be application/json', { status: 415 })
      : undefined,
  );
};

/**
 * Builds the admin API of `server` behind `guard` (a `requireScope(...)` handler). Mount it under
 * a prefix: `app.use('/admin', oauth.adminRouter())`.
 */
export function createAdminRouter(server: AuthorizationServer, guard: RequestHandler, options: ResolvedAdminRouterOptions): Router {
  const { registry, groups } = server;
  const { logger, clock } = server.options;
  const router = express.Router();
  const view = (client: Client) => clientView(client, clock());

  // Express 4 does not catch a rejected handler promise; Express 5 does. This works on both.
  const route =
    (handler: (req: Request, res: Response) => Promise<unknown>): RequestHandler =>
    (req, res, next) => {
      handler(req, res).catch(next);
    };

  /** Every named group must exist before anything changes, so bad input changes nothing. */
  async function existingGroups(value: unknown): Promise<string[]> {
    const names = stringList(value, 'groups');
    const missing: string[] = [];
    for (const name of names) {
      const found = await groups.get(name).then(
        () => true,
        (err: unknown) => (err instanceof RegistryError && err.code === 'not_found' ? false : Promise.reject(err)),
      );
      if (!found) missing.push(name);
    }
    if (missing.length > 0) throw invalid(`no group named ${missing.map((m) => JSON.stringify(m)).join(', ')}`, 'groups');
    return names;
  }

  router.use(ADMIN_PATHS, guard, (_req, res, next) => {
    setNoStore(res);
    next();
  });
  router.use(ADMIN_PATHS, requireJson, refuseOversizedBodies(express.json({ limit: JSON_LIMIT, strict: true, type: 'application/json' }), JSON_LIMIT));

  router.get('/openapi.json', (req, res) => {
    // The token endpoint the metadata publishes: under the issuer's path, if it has one.
    const tokenUrl = authorizationServerMetadata(server.options).token_endpoint as string;
    res.json(adminOpenApiDocument({ basePath: req.baseUrl, tokenUrl, scope: options.scope }));
  });

  router.get(
    '/clients',
    route(async (_req, res) => res.json({ clients: (await registry.list()).map(view) })),
  );

  router.post(
    '/clients',
    route(async (req, res) => {
      const body = readBody(req, ['client_name', 'scope', 'audiences', 'token_format', 'groups'], ['client_name']);
      const input = {
        name: clientNameField(body.client_name),
        scopes: body.scope === undefined ? [] : scopeField(body.scope),
        audiences: body.audiences === undefined ? [] : validAudiences(body.audiences),
        // checked by the registry, which names the field
        tokenFormat: body.token_format as TokenFormat | undefined,
      };
      const groupNames = body.groups === undefined ? [] : await existingGroups(body.groups);
      // One transaction for the client and its groups: never a client whose secret was not returned.
      const { client, clientSecret } = await registry.create({ ...input, groups: groupNames });
      res
        .status(201)
        .location(`${req.baseUrl}/clients/${encodeURIComponent(client.id)}`)
        .json({ ...view(client), client_secret: clientSecret });
    }),
  );

  router.get(
    '/clients/:id',
    route(async (req, res) => res.json(view(await registry.get(req.params.id as string)))),
  );

  router.patch(
    '/clients/:id',
    route(async (req, res) => {
      const id = req.params.id as string;
      const body = readBody(req, ['client_name', 'scope', 'audiences', 'groups', 'enabled']);
      if (Object.keys(body).length === 0) throw invalid('nothing to change: give client_name, scope, audiences, groups or enabled');
      const name = body.client_name === undefined ? undefined : clientNameField(body.client_name);
      const scopes = body.scope === undefined ? undefined : scopeField(body.scope);
      const audiences = body.audiences === undefined ? undefined : stringList(body.audiences, 'audiences');
      const enabled = body.enabled === undefined ? undefined : booleanField(body.enabled, 'enabled');
      const groupNames = body.groups === undefined ? undefined : await existingGroups(body.groups);
      // One request, one transaction, one audit event: all of the changes or none.
      const client = await registry.update(id, {
        ...(name === undefined ? {} : { name }),
        ...(scopes === undefined ? {} : { scopes }),
        ...(audiences === undefined ? {} : { audiences }),
        ...(groupNames === undefined ? {} : { groups: groupNames }),
        ...(enabled === undefined ? {} : { enabled }),
      });
      res.json(view(client));
    }),
  );

  router.delete(
    '/clients/:id',
    route(async (req, res) => {
      await registry.delete(req.params.id as string);
      res.status(204).end();
    }),
  );

  router.post(
    '/clients/:id/rotate-secret',
    route(async (req, res) => {
      const body = readBody(req, ['grace_seconds', 'revoke_tokens']);
      const grace = body.grace_seconds ?? 0;
      if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) {
        throw invalid(`grace_seconds must be an integer from 0 to ${MAX_GRACE_SECONDS}`, 'grace_seconds');
      }
      const revokeTokens = body.revoke_tokens;
      if (revokeTokens !== undefined && typeof revokeTokens !== 'boolean') {
        throw invalid('revoke_tokens must be true or false', 'revoke_tokens');
      }
      const { client, clientSecret } = await registry.rotateSecret(req.params.id as string, {
        graceSeconds: grace,
        ...(revokeTokens === undefined ? {} : { revokeTokens }),
      });
      res.json({ ...view(client), client_secret: clientSecret });
    }),
  );

  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
    router.post(
      `/clients/:id/${action}`,
      route(async (req, res) => {
        readBody(req, []);
        res.json(view(await registry.setEnabled(req.params.id as string, enabled)));
      }),
    );
  }

  router.put(
    '/clients/:id/groups/:group',
    route(async (req, res) => {
      readBody(req, []);
      res.json(view(await groups.addClient(req.params.id as string, req.params.group as string)));
    }),
  );

  router.delete(
    '/clients/:id/groups/:group',
    route(async (req, res) => res.json(view(await groups.removeClient(req.params.id as string, req.params.group as string)))),
  );

  router.get(
    '/groups',
    route(async (_req, res) => res.json({ groups: (await groups.list()).map(groupView) })),
  );

  router.post(
    '/groups',
    route(async (req, res) => {
      const body = readBody(req, ['name', 'scope', 'audiences'], ['name']);
      const group = await groups.create({
        name: body.name as string,
        scopes: body.scope === undefined ? [] : scopeField(body.scope),
        audiences: body.audiences === undefined ? [] : stringList(body.audiences, 'audiences'),
      });
      res
        .status(201)
        .location(`${req.baseUrl}/groups/${encodeURIComponent(group.name)}`)
        .json(groupView(group));
    }),
  );

  router.get(
    '/groups/:name',
    route(async (req, res) => res.json(groupView(await groups.get(req.params.name as string)))),
  );

  router.patch(
    '/groups/:name',
    route(async (req, res) => {
      const body = readBody(req, ['scope', 'audiences']);
      if (Object.keys(body).length === 0) throw invalid('nothing to change: give scope or audiences');
      const group = await groups.update(req.params.name as string, {
        ...(body.scope === undefined ? {} : { scopes: scopeField(body.scope) }),
        ...(body.audiences === undefined ? {} : { audiences: stringList(body.audiences, 'audiences') }),
      });
      res.json(groupView(group));
    }),
  );

  router.delete(
    '/groups/:name',
    route(async (req, res) => {
      const force = req.query.force;
      if (force !== undefined && force !== 'true' && force !== 'false') throw invalid('force must be true or false', 'force');
      await groups.delete(req.params.name as string, { force: force === 'true' });
      res.status(204).end();
    }),
  );

  // Past the guard, an unknown route or method under the admin paths gets a JSON answer, not the host app's HTML 404.
  router.use(ADMIN_PATHS, (req, _res, next) => {
    next(new RegistryError('not_found', `no admin route ${req.method} ${req.originalUrl.split('?')[0]}`));
  });

  router.use(ADMIN_PATHS, (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    setNoStore(res);
    if (err instanceof RegistryError) {
      res.status(STATUS[err.code]).json({
        error: err.code === 'invalid' ? 'invalid_request' : err.code,
        error_description: err.message,
        ...(err.field === undefined ? {} : { field: err.field }),
      });
      return;
    }
    renderOAuthError(res, bodyParserError(err, 'the request body is not valid JSON') ?? err, logger);
  });
  return router;
}
