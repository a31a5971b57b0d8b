// adminRouter(): a JSON REST API over clients, groups, tokens and signing keys behind the admin-scope guard, with its OpenAPI description.
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { clientView, groupView } from '../core/admin/admin-views';
import type { AuthorizationServer } from '../core/issuing/authorization-server';
import type { Client, TokenFormat } from '../core/model/client';
import type { Group } from '../core/model/group';
import { RegistryError, validAudiences, validName, validScopes, type ChangeOptions, type ClientKeyInput, type ClientListQuery } from '../core/admin/registry';
import type { AuditActor } from '../core/model/events';
import { isSealedPrivateKey } from '../core/tokens/key-encryption';
import { signingKeyState } from '../core/model/key';
import { InvalidRequestError, OAuthError } from '../core/model/errors';
import type { ResolvedAdminRouterOptions } from '../options';
import { adminOpenApiDocument } from './admin-openapi';
import { authorizationServerMetadata } from './metadata';
import { bodyParserError, refuseOversizedBodies } from './body-errors';
import { renderOAuthError, setNoStore } from './render';

/** The paths this router answers; its guard and error handler apply to nothing else of the host app. */
const ADMIN_PATHS = ['/clients', '/groups', '/keys', '/openapi.json'];
const JSON_LIMIT = 16 * 1024;
/** A year: a longer overlap of two secrets is a mistake, not a rollout. */
const MAX_GRACE_SECONDS = 365 * 24 * 3600;
const STATUS = { invalid: 400, not_found: 404, conflict: 409, precondition_failed: 412 } as const;
/** RFC 9110 §15.5.6: a method the path does not support; `Allow` lists those it does. */
class MethodNotAllowed extends Error {
  constructor(readonly allow: string) {
    super('method not allowed');
  }
}

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

/** RFC 7591 §2 `jwks` / `jwks_uri` (one of them), checked by the registry's rules; undefined when neither is given. */
function keysField(body: Body): ClientKeyInput | undefined {
  const { jwks, jwks_uri: jwksUri } = body;
  if (jwks === undefined && jwksUri === undefined) return undefined;
  if (jwks !== undefined && jwksUri !== undefined) throw invalid('give either jwks or jwks_uri, not both (RFC 7591 section 2)', 'jwks');
  if (jwksUri !== undefined && typeof jwksUri !== 'string') throw invalid('jwks_uri must be a URL string', 'jwks_uri');
  return jwks !== undefined ? { jwks } : { jwksUri: jwksUri as string };
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

/** `force=true|false` in the query string (guard-rail overrides); absent is false. */
function forceParam(req: Request): boolean {
  const force = req.query.force;
  if (force !== undefined && force !== 'true' && force !== 'false') throw invalid('force must be true or false', 'force');
  return force === 'true';
}

/** A client's or a group's entity tag (RFC 9110 §8.8.3): its version, which moves with every change. */
function etag(entity: { version: number }): string {
  return `"${entity.version}"`;
}

/**
 * RFC 9110 §13.1.1 If-Match with the strong comparison: `*` or the current version's tag lets the
 * change through (on condition of that version, checked again in the store's transaction); any other
 * list is 412 and changes nothing. No If-Match: no condition.
 */
function ifMatch(req: Request, current: { version: number }, what: 'client' | 'group'): { expectedVersion?: number } {
  const header = req.headers['if-match'];
  if (header === undefined) return {};
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return {};
  if (tags.includes(etag(current))) return { expectedVersion: current.version };
  throw new RegistryError('precondition_failed', `If-Match does not match the ${what}'s current ETag ${etag(current)}`);
}

const LIST_PARAMS = ['limit', 'cursor', 'client_name', 'group', 'enabled', 'scope'];

/** GET /clients query: page size, opaque cursor, filters; an unknown parameter is refused. */
function listQuery(req: Request): ClientListQuery {
  const query: ClientListQuery = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (!LIST_PARAMS.includes(key)) throw invalid(`unknown query parameter ${JSON.stringify(key)}`, key);
    if (typeof value !== 'string') throw invalid(`${key} must be given once`, key);
  }
  const q = req.query as Record<string, string | undefined>;
  if (q.limit !== undefined) {
    if (!/^[0-9]{1,4}$/.test(q.limit)) throw invalid('limit must be an integer from 1 to 1000', 'limit');
    query.limit = Number(q.limit);
  }
  if (q.cursor !== undefined) query.cursor = q.cursor;
  if (q.client_name !== undefined) query.name = q.client_name;
  if (q.group !== undefined) query.group = q.group;
  if (q.scope !== undefined) query.scope = q.scope;
  if (q.enabled !== undefined) {
    if (q.enabled !== 'true' && q.enabled !== 'false') throw invalid('enabled must be true or false', 'enabled');
    query.enabled = q.enabled === 'true';
  }
  return query;
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
  const { logger, clock } = server.options;
  const router = express.Router();
  const view = (client: Client) => clientView(client, clock());
  /** Who makes this request's changes, for the audit events (never the token itself). */
  const actorOf = (req: Request): AuditActor => ({ via: 'admin_api', clientId: req.auth?.clientId, address: req.ip });
  const registryFor = (req: Request) => server.registry.recordingTo(server.events.as(actorOf(req)));
  const groupsFor = (req: Request) => server.groups.recordingTo(server.events.as(actorOf(req)));
  const groups = server.groups;
  /** A single client's response carries its ETag, for If-Match on the next change. */
  const sendClient = (res: Response, client: Client, extra: Record<string, unknown> = {}) =>
    res.set('ETag', etag(client)).json({ ...view(client), ...extra });
  /** A single group's response carries its ETag too. */
  const sendGroup = (res: Response, group: Group) => res.set('ETag', etag(group)).json(groupView(group));

  // Express 4 does not catch a rejected handler promise; Express 5 does. This works on both.
  const route =
    (handler: (req: Request, res: Response) => Promise<unknown>): RequestHandler =>
    (req, res, next) => {
      handler(req, res).catch(next);
    };

  /** The If-Match condition of a change to client `id` (the client is read only when the header is there). */
  const precondition = async (req: Request, id: string): Promise<ChangeOptions> =>
    req.headers['if-match'] === undefined ? {} : ifMatch(req, await server.registry.get(id), 'client');
  /** The If-Match condition of a change to group `name` (read only when the header is there). */
  const groupPrecondition = async (req: Request, name: string): Promise<{ expectedVersion?: number }> =>
    req.headers['if-match'] === undefined ? {} : ifMatch(req, await groups.get(name), 'group');

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
  router.use(ADMIN_PATHS, requireJson, refuseOversizedBodies(express.json({ limit: JSON_LIMIT, strict: true, type: 'application/json' }), JSON_LIMIT, server.options.bodyTimeout));

  router.get('/openapi.json', (req, res) => {
    // The token endpoint the metadata publishes: under the issuer's path, if it has one.
    const tokenUrl = authorizationServerMetadata(server.options).token_endpoint as string;
    res.json(adminOpenApiDocument({ basePath: req.baseUrl, tokenUrl, scope: options.scope }));
  });

  router.get(
    '/clients',
    route(async (req, res) => {
      const page = await server.registry.listPage(listQuery(req));
      if (page.nextCursor !== undefined) {
        // RFC 8288 Link to the next page: the same filters and limit, the new cursor.
        const next = new URLSearchParams(req.query as Record<string, string>);
        next.set('cursor', page.nextCursor);
        res.set('Link', `<${req.baseUrl}/clients?${next.toString()}>; rel="next"`);
      }
      res.json({ clients: page.clients.map(view), ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }) });
    }),
  );

  router.post(
    '/clients',
    route(async (req, res) => {
      const body = readBody(
        req,
        ['client_name', 'scope', 'audiences', 'token_format', 'groups', 'description', 'token_lifetime', 'jwks', 'jwks_uri', 'dpop_bound_access_tokens'],
        ['client_name'],
      );
      const input = {
        name: clientNameField(body.client_name),
        scopes: body.scope === undefined ? [] : scopeField(body.scope),
        audiences: body.audiences === undefined ? [] : validAudiences(body.audiences),
        // checked by the registry, which names the field
        tokenFormat: body.token_format as TokenFormat | undefined,
        ...(body.description === undefined ? {} : { description: body.description as string }),
        ...(body.token_lifetime === undefined ? {} : { tokenLifetime: body.token_lifetime as number | null }),
        ...(body.dpop_bound_access_tokens === undefined ? {} : { requireDpop: booleanField(body.dpop_bound_access_tokens, 'dpop_bound_access_tokens') }),
      };
      const groupNames = body.groups === undefined ? [] : await existingGroups(body.groups);
      // One transaction for the client and its groups: never a client whose secret was not returned.
      // RFC 7591 §2: a client registered with keys (private_key_jwt) gets no secret at all.
      const keys = keysField(body);
      const created = keys
        ? { client: await registryFor(req).createWithKeys({ ...input, groups: groupNames }, keys), clientSecret: undefined }
        : await registryFor(req).create({ ...input, groups: groupNames });
      res.status(201).location(`${req.baseUrl}/clients/${encodeURIComponent(created.client.id)}`);
      sendClient(res, created.client, created.clientSecret === undefined ? {} : { client_secret: created.clientSecret });
    }),
  );

  router.get(
    '/clients/:id',
    route(async (req, res) => sendClient(res, await server.registry.get(req.params.id as string))),
  );

  router.patch(
    '/clients/:id',
    route(async (req, res) => {
      const id = req.params.id as string;
      const body = readBody(req, [
        'client_name', 'scope', 'audiences', 'groups', 'enabled', 'token_format', 'description', 'token_lifetime', 'jwks', 'jwks_uri', 'dpop_bound_access_tokens',
      ]);
      if (Object.keys(body).length === 0) {
        throw invalid('nothing to change: give client_name, scope, audiences, groups, enabled, token_format, description or token_lifetime');
      }
      const force = forceParam(req);
      // jwks or jwks_uri replaces the keys; both null removes them.
      const keys = body.jwks === null && (body.jwks_uri === null || body.jwks_uri === undefined) ? null : keysField(body);
      const requireDpop =
        body.dpop_bound_access_tokens === undefined ? undefined : booleanField(body.dpop_bound_access_tokens, 'dpop_bound_access_tokens');
      const name = body.client_name === undefined ? undefined : clientNameField(body.client_name);
      const scopes = body.scope === undefined ? undefined : scopeField(body.scope);
      const audiences = body.audiences === undefined ? undefined : validAudiences(body.audiences);
      const enabled = body.enabled === undefined ? undefined : booleanField(body.enabled, 'enabled');
      const groupNames = body.groups === undefined ? undefined : await existingGroups(body.groups);
      // One request, one transaction, one audit event: all of the changes or none.
      const condition = await precondition(req, id);
      const client = await registryFor(req).update(
        id,
        {
          ...(name === undefined ? {} : { name }),
          ...(scopes === undefined ? {} : { scopes }),
          ...(audiences === undefined ? {} : { audiences }),
          ...(groupNames === undefined ? {} : { groups: groupNames }),
          ...(enabled === undefined ? {} : { enabled }),
          // checked by the registry, which names the field
          ...(body.token_format === undefined ? {} : { tokenFormat: body.token_format as TokenFormat }),
          ...(body.description === undefined ? {} : { description: body.description as string }),
          ...(body.token_lifetime === undefined ? {} : { tokenLifetime: body.token_lifetime as number | null }),
          ...(keys === undefined ? {} : { keys }),
          ...(requireDpop === undefined ? {} : { requireDpop }),
        },
        { ...condition, force },
      );
      sendClient(res, client);
    }),
  );

  router.delete(
    '/clients/:id',
    route(async (req, res) => {
      const id = req.params.id as string;
      const force = forceParam(req);
      await registryFor(req).delete(id, { ...await precondition(req, id), force });
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
      const id = req.params.id as string;
      const { client, clientSecret } = await registryFor(req).rotateSecret(id, {
        graceSeconds: grace,
        ...(revokeTokens === undefined ? {} : { revokeTokens }),
        ...(await precondition(req, id)),
      });
      sendClient(res, client, { client_secret: clientSecret });
    }),
  );

  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
    router.post(
      `/clients/:id/${action}`,
      route(async (req, res) => {
        readBody(req, []);
        const id = req.params.id as string;
        const force = forceParam(req);
        const condition = await precondition(req, id);
        sendClient(res, await registryFor(req).setEnabled(id, enabled, { ...condition, force }));
      }),
    );
  }

  router.put(
    '/clients/:id/groups/:group',
    route(async (req, res) => {
      readBody(req, []);
      // The target is the client's membership, the representation returned the client: If-Match is the client's ETag.
      const id = req.params.id as string;
      sendClient(res, await groupsFor(req).addClient(id, req.params.group as string, await precondition(req, id)));
    }),
  );

  router.delete(
    '/clients/:id/groups/:group',
    route(async (req, res) => {
      const id = req.params.id as string;
      sendClient(res, await groupsFor(req).removeClient(id, req.params.group as string, await precondition(req, id)));
    }),
  );

  router.get(
    '/groups',
    route(async (_req, res) => res.json({ groups: (await groups.list()).map(groupView) })),
  );

  router.post(
    '/groups',
    route(async (req, res) => {
      const body = readBody(req, ['name', 'scope', 'audiences'], ['name']);
      const group = await groupsFor(req).create({
        name: body.name as string,
        scopes: body.scope === undefined ? [] : scopeField(body.scope),
        audiences: body.audiences === undefined ? [] : stringList(body.audiences, 'audiences'),
      });
      res
        .status(201)
        .location(`${req.baseUrl}/groups/${encodeURIComponent(group.name)}`);
      sendGroup(res, group);
    }),
  );

  router.get(
    '/groups/:name',
    route(async (req, res) => sendGroup(res, await groups.get(req.params.name as string))),
  );

  router.patch(
    '/groups/:name',
    route(async (req, res) => {
      const body = readBody(req, ['scope', 'audiences']);
      if (Object.keys(body).length === 0) throw invalid('nothing to change: give scope or audiences');
      const name = req.params.name as string;
      const changes = {
        ...(body.scope === undefined ? {} : { scopes: scopeField(body.scope) }),
        ...(body.audiences === undefined ? {} : { audiences: stringList(body.audiences, 'audiences') }),
      };
      sendGroup(res, await groupsFor(req).update(name, changes, await groupPrecondition(req, name)));
    }),
  );

  router.delete(
    '/groups/:name',
    route(async (req, res) => {
      const name = req.params.name as string;
      const force = forceParam(req);
      await groupsFor(req).delete(name, { ...(await groupPrecondition(req, name)), force });
      res.status(204).end();
    }),
  );

  router.get(
    '/clients/:id/tokens',
    route(async (req, res) => {
      const limit = req.query.limit;
      if (limit !== undefined && (typeof limit !== 'string' || !/^[0-9]{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000)) {
        throw invalid('limit must be an integer from 1 to 1000', 'limit');
      }
      const tokens = await server.tokens.liveTokens(req.params.id as string, limit === undefined ? 100 : Number(limit));
      res.json({ tokens });
    }),
  );

  router.delete(
    '/clients/:id/tokens/:jti',
    route(async (req, res) => {
      const tokens = server.tokens.recordingTo(server.events.as(actorOf(req)));
      await tokens.revoke(req.params.id as string, req.params.jti as string);
      res.status(204).end();
    }),
  );

  router.get(
    '/keys',
    route(async (_req, res) => {
      const keys = await server.store.listSigningKeys(clock());
      res.json({
        keys: keys.map((k) => ({
          kid: k.kid,
          alg: k.alg,
          active: k.active,
          // next (published, signs from activate_at), active, or retiring (published until retire_at).
          state: signingKeyState(k),
          created_at: new Date(k.createdAt).toISOString(),
          activate_at: k.activateAt == null ? null : new Date(k.activateAt).toISOString(),
          retire_at: k.retireAt === null ? null : new Date(k.retireAt).toISOString(),
          // Whether a copy of the database is enough to sign with it; never the key itself.
          private_key: k.privateKeyPem === null ? 'dropped' : isSealedPrivateKey(k.privateKeyPem) ? 'encrypted' : 'clear',
          public_jwk: k.publicJwk,
        })),
      });
    }),
  );

  router.post(
    '/keys/rotate',
    route(async (req, res) => {
      readBody(req, []);
      // The previous key stays published until every token it signed has expired (the server decides when).
      const { kid, previousKid } = await server.rotateSigningKey({ audit: server.events.as(actorOf(req)) });
      const previous = (await server.store.listSigningKeys(clock())).find((k) => k.kid === previousKid);
      const retireAt = previous?.retireAt ?? null;
      res.json({ kid, previous_kid: previousKid ?? null, previous_retire_at: retireAt === null ? null : new Date(retireAt).toISOString() });
    }),
  );

  router.post(
    '/keys/:kid/retire',
    route(async (req, res) => {
      readBody(req, []);
      const kid = req.params.kid as string;
      if (!(await server.retireSigningKey(kid, server.events.as(actorOf(req))))) {
        throw new RegistryError('not_found', `no signing key ${JSON.stringify(kid)} in service`, 'kid');
      }
      res.json({ retired: kid, active: (await server.keys.getSigner()).kid });
    }),
  );

  // RFC 9110 §15.5.6: a known path with a method it does not support is 405 with Allow, not 404.
  for (const [path, methods] of routeMethods(router)) {
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    router.all(path, (req, res, next) => {
      if (req.method === 'OPTIONS') {
        res.set('Allow', allow).status(204).end();
        return;
      }
      next(new MethodNotAllowed(allow));
    });
  }

  // Past the guard, an unknown route under the admin paths gets a JSON answer, not the host app's HTML 404.
  router.use(ADMIN_PATHS, (req, _res, next) => {
    next(new RegistryError('not_found', `no admin route ${req.method} ${req.originalUrl.split('?')[0]}`));
  });

  router.use(ADMIN_PATHS, (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    setNoStore(res);
    if (err instanceof MethodNotAllowed) {
      res.status(405).set('Allow', err.allow).json({ error: 'method_not_allowed', error_description: `allowed methods: ${err.allow}` });
      return;
    }
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

/** The methods each path of `router` answers, in registration order (read from Express's route table). */
function routeMethods(router: Router): Map<string, string[]> {
  const paths = new Map<string, string[]>();
  for (const layer of (router as unknown as { stack: { route?: { path: unknown; methods: Record<string, boolean> } }[] }).stack) {
    const route = layer.route;
    if (!route || typeof route.path !== 'string') continue;
    const methods = paths.get(route.path) ?? [];
    for (const [method, on] of Object.entries(route.methods)) {
      if (on && method !== '_all' && !methods.includes(method.toUpperCase())) methods.push(method.toUpperCase());
    }
    paths.set(route.path, methods);
  }
  return paths;
}
