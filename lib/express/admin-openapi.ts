// The OpenAPI 3.1 description of the admin API, built for the path the router is mounted on.
import { MAX_RESOURCE_LENGTH, RESOURCE_INDICATOR_PATTERN } from '../core/model/resource';

/** Where the document points tools: the mount path of the router and the token endpoint to get an admin token from. */
export interface AdminApiLocation {
  /** The router's mount path, as `req.baseUrl` gives it ('' at the root). */
  basePath: string;
  /** Absolute URL of the token endpoint (RFC 6749 §3.2). */
  tokenUrl: string;
  /** The scope the guard requires. */
  scope: string;
}

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: Json): Json => ({ 'application/json': { schema } });
const ok = (description: string, schema: Json): Json => ({ description, content: jsonBody(schema) });
const error = (description: string): Json => ({ description, content: jsonBody(ref('Error')) });
const noContent = { description: 'Done; no body' };
const etagHeader = { ETag: { schema: { type: 'string' }, description: "The client's version as an entity tag, for If-Match (RFC 9110 §8.8.3)" } };
const clientOk = (description: string, schema: Json): Json => ({ ...ok(description, schema), headers: etagHeader });
const groupEtagHeader = { ETag: { schema: { type: 'string' }, description: "The group's version as an entity tag, for If-Match (RFC 9110 §8.8.3)" } };
const groupOk = (description: string, schema: Json): Json => ({ ...ok(description, schema), headers: groupEtagHeader });
const challenge = { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'The Bearer challenge (RFC 6750 §3)' } };

/** Responses every operation may give: the guard's, the body limits', and the database's. */
const COMMON = {
  '401': {
    description:
      'No access token (the body has no `error`, RFC 6750 §3.1), or one that is expired, revoked or not for this API (invalid_token)',
    headers: challenge,
    content: jsonBody(ref('GuardError')),
  },
  '403': { ...error('The access token lacks the admin scope (insufficient_scope)'), headers: challenge },
  '413': error('The request body is larger than 16 KiB'),
  '415': error('A request body that is not application/json'),
  '500': error('An unexpected failure; the body is only {"error":"server_error"}'),
  '503': {
    ...error('The database is locked by another writer (temporarily_unavailable)'),
    headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } },
  },
};
const BAD = error('Invalid input; `field` names the offending field');
const MISSING = error('Unknown client or group');
const CONFLICT = error('Conflicts with the current state (a name in use, a group with members, the last admin client without force)');
const STALE = error('If-Match does not match the current ETag: the client changed meanwhile (RFC 9110 §13.1.1); nothing changed');
const GROUP_STALE = error("If-Match does not match the group's current ETag: it changed meanwhile (RFC 9110 §13.1.1); nothing changed");
const NOT_ALLOWED = {
  ...error('The path does not support this method'),
  headers: { Allow: { schema: { type: 'string' }, description: 'The methods it supports (RFC 9110 §10.2.1)' } },
};
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'Apply only while the client still has this ETag (optimistic locking); 412 otherwise',
};
const groupIfMatch = {
  ...ifMatch,
  description: 'Apply only while the group still has this ETag (optimistic locking; it moves with scopes, audiences and members); 412 otherwise',
};
const force = {
  name: 'force',
  in: 'query',
  required: false,
  schema: { enum: ['true', 'false'] },
  description: 'Allow deleting or disabling the last enabled client holding oauth:admin',
};
const kidParam = { name: 'kid', in: 'path', required: true, schema: { type: 'string' } };
const jtiParam = { name: 'jti', in: 'path', required: true, schema: { type: 'string' } };
const clientId = { name: 'client_id', in: 'path', required: true, schema: { type: 'string' } };
const groupName = { name: 'name', in: 'path', required: true, schema: ref('GroupName') };
const membershipGroup = { name: 'group', in: 'path', required: true, schema: ref('GroupName') };

function op(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, ...extra, responses: { ...responses, ...COMMON, '405': NOT_ALLOWED } };
}

const body = (schema: Json, required = true): Json => ({ requestBody: { required, content: jsonBody(schema) } });

const SCHEMAS: Json = {
  GuardError: {
    type: 'object',
    description: 'The guard refused the request: without a token only error_description (RFC 6750 §3.1), else error too',
    required: ['error_description'],
    properties: {
      error: { enum: ['invalid_token', 'invalid_request'] },
      error_description: { type: 'string' },
    },
  },
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: { type: 'string', examples: ['invalid_request', 'not_found', 'conflict', 'insufficient_scope'] },
      error_description: { type: 'string' },
      field: { type: 'string', description: 'The request field that was refused' },
    },
  },
  Scope: {
    type: 'string',
    description: 'Space-delimited RFC 6749 §3.3 scope-tokens',
    pattern: '^([\\x21\\x23-\\x5B\\x5D-\\x7E]+( +[\\x21\\x23-\\x5B\\x5D-\\x7E]+)*)?$',
    examples: ['orders:read orders:write'],
  },
  Audiences: {
    type: 'array',
    description: 'RFC 8707 resource indicators: absolute URIs without a fragment, as the token endpoint takes them in `resource`',
    items: { type: 'string', maxLength: MAX_RESOURCE_LENGTH, pattern: RESOURCE_INDICATOR_PATTERN },
  },
  Description: { type: 'string', maxLength: 1000, description: 'Free text for people' },
  TokenLifetime: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: 86400,
    description: "Seconds; the instance's accessTokenLifetime caps it; null: the instance's",
  },
  GroupName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' },
  Secret: {
    type: 'object',
    required: ['status', 'created_at', 'expires_at'],
    description: 'A secret the client accepts now; never the secret or its hash',
    properties: {
      status: { enum: ['current', 'previous'] },
      created_at: { type: 'string', format: 'date-time' },
      expires_at: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  ClientFields: {
    type: 'object',
    required: [
      'client_id', 'client_name', 'scope', 'effective_scope', 'audiences', 'effective_audiences', 'groups',
      'grant_types', 'token_format', 'description', 'token_lifetime', 'enabled', 'secrets', 'jwks', 'jwks_uri', 'dpop_bound_access_tokens', 'version', 'created_at', 'updated_at',
    ],
    properties: {
      client_id: { type: 'string' },
      client_name: { type: 'string' },
      scope: { $ref: '#/components/schemas/Scope', description: 'Scopes given to the client directly' },
      effective_scope: { $ref: '#/components/schemas/Scope', description: "The client's own scopes plus its groups'" },
      audiences: ref('Audiences'),
      effective_audiences: ref('Audiences'),
      groups: { type: 'array', items: ref('GroupName') },
      grant_types: { type: 'array', items: { type: 'string' } },
      token_format: { enum: ['jwt', 'reference'] },
      description: ref('Description'),
      token_lifetime: ref('TokenLifetime'),
      enabled: { type: 'boolean' },
      secrets: { type: 'array', items: ref('Secret') },
      jwks: { oneOf: [ref('Jwks'), { type: 'null' }], description: 'Public keys for private_key_jwt (RFC 7523 section 2.2)' },
      jwks_uri: { type: ['string', 'null'], format: 'uri', description: 'Where the client publishes its public keys' },
      dpop_bound_access_tokens: { type: 'boolean', description: 'Token requests without a DPoP proof are refused (RFC 9449 section 5.2)' },
      version: { type: 'integer', description: 'Moves with every change to the client or its groups' },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  },
  Jwks: {
    type: 'object',
    required: ['keys'],
    description: 'A JWK Set (RFC 7517 section 5) of 1 to 10 public RSA, EC or OKP keys',
    properties: { keys: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'object', required: ['kty'] } } },
  },
  Client: { description: 'A client: never a secret or a hash', allOf: [ref('ClientFields')], unevaluatedProperties: false },
  ClientWithSecret: {
    description: 'The client and its new secret, shown this once (Cache-Control: no-store)',
    allOf: [ref('ClientFields'), { type: 'object', required: ['client_secret'], properties: { client_secret: { type: 'string' } } }],
    unevaluatedProperties: false,
  },
  NewClient: {
    type: 'object',
    additionalProperties: false,
    required: ['client_name'],
    properties: {
      client_name: { type: 'string', minLength: 1, maxLength: 200 },
      scope: ref('Scope'),
      audiences: ref('Audiences'),
      token_format: { enum: ['jwt', 'reference'], default: 'jwt' },
      groups: { type: 'array', items: ref('GroupName'), description: 'Existing groups to put the client in' },
      description: ref('Description'),
      token_lifetime: ref('TokenLifetime'),
      jwks: { ...ref('Jwks'), description: 'Register public keys instead of a secret (private_key_jwt): no client_secret is issued' },
      jwks_uri: { type: 'string', format: 'uri', description: 'Like jwks, by URL (https; fetched and refetched for an unknown kid)' },
      dpop_bound_access_tokens: { type: 'boolean', default: false },
    },
  },
  ClientUpdate: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      client_name: { type: 'string', minLength: 1, maxLength: 200 },
      scope: ref('Scope'),
      audiences: ref('Audiences'),
      groups: { type: 'array', items: ref('GroupName'), description: 'The exact set of groups the client belongs to' },
      enabled: { type: 'boolean', description: 'false voids the tokens issued so far; refused for the last admin client unless force=true' },
      token_format: { enum: ['jwt', 'reference'], description: 'Applies to tokens issued from now on' },
      description: ref('Description'),
      token_lifetime: ref('TokenLifetime'),
      jwks: { oneOf: [ref('Jwks'), { type: 'null' }], description: 'Replaces the public keys; null (with jwks_uri absent or null) removes them' },
      jwks_uri: { type: ['string', 'null'], format: 'uri' },
      dpop_bound_access_tokens: { type: 'boolean' },
    },
  },
  Rotation: {
    type: 'object',
    additionalProperties: false,
    properties: {
      grace_seconds: {
        type: 'integer',
        minimum: 0,
        maximum: 31536000,
        default: 0,
        description: 'How long the previous secret stays valid; 0 cuts it at once. At most two secrets are valid.',
      },
      revoke_tokens: {
        type: 'boolean',
        description: 'Whether tokens issued before the rotation stop working; default: true when grace_seconds is 0, false otherwise.',
      },
    },
  },
  ClientPage: {
    type: 'object',
    required: ['clients'],
    additionalProperties: false,
    properties: {
      clients: { type: 'array', items: ref('Client') },
      next_cursor: { type: 'string', description: 'Give as `cursor` for the next page (also in the Link header, rel="next"); absent on the last page' },
    },
  },
  ReferenceToken: {
    type: 'object',
    description: 'A live opaque access token: its id and claims, never the token',
    required: ['jti', 'client_id', 'scope', 'aud', 'issued_at', 'expires_at'],
    additionalProperties: false,
    properties: {
      jti: { type: 'string' },
      client_id: { type: 'string' },
      scope: ref('Scope'),
      aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      issued_at: { type: 'string', format: 'date-time' },
      expires_at: { type: 'string', format: 'date-time' },
    },
  },
  SigningKey: {
    type: 'object',
    required: ['kid', 'alg', 'active', 'state', 'created_at', 'activate_at', 'retire_at', 'private_key', 'public_jwk'],
    additionalProperties: false,
    properties: {
      kid: { type: 'string' },
      alg: { enum: ['RS256', 'ES256'] },
      active: { type: 'boolean', description: 'The key that signs new tokens' },
      state: { enum: ['next', 'active', 'retiring'], description: 'next: published, signs from activate_at; retiring: published until retire_at' },
      created_at: { type: 'string', format: 'date-time' },
      activate_at: { type: ['string', 'null'], format: 'date-time', description: 'When a next key starts signing' },
      retire_at: { type: ['string', 'null'], format: 'date-time', description: 'When it leaves the JWKS' },
      private_key: { enum: ['clear', 'encrypted', 'dropped'], description: 'How its private half is stored; never the key' },
      public_jwk: { type: 'object', description: 'The public key (RFC 7517)' },
    },
  },
  KeyRotation: {
    type: 'object',
    required: ['kid', 'previous_kid', 'previous_retire_at'],
    additionalProperties: false,
    properties: {
      kid: { type: 'string' },
      previous_kid: { type: ['string', 'null'] },
      previous_retire_at: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  KeyRetirement: {
    type: 'object',
    required: ['retired', 'active'],
    additionalProperties: false,
    properties: { retired: { type: 'string' }, active: { type: 'string', description: 'The key signing from now on' } },
  },
  Group: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'scope', 'audiences', 'members', 'version', 'created_at', 'updated_at'],
    properties: {
      name: ref('GroupName'),
      scope: ref('Scope'),
      audiences: ref('Audiences'),
      members: { type: 'array', items: { type: 'string' }, description: 'Ids of the member clients' },
      version: { type: 'integer', description: 'Moves with every change to the group: scopes, audiences, members (the ETag)' },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  },
  NewGroup: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name: ref('GroupName'), scope: ref('Scope'), audiences: ref('Audiences') },
  },
  GroupUpdate: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { scope: ref('Scope'), audiences: ref('Audiences') },
  },
};

/** The admin API's operations, by path; every one needs a bearer token with the admin scope. */
const PATHS: Json = {
  '/clients': {
    get: op(
      'List clients, a page at a time, ordered by client_id; filters combine',
      {
        '200': {
          ...ok('One page', ref('ClientPage')),
          headers: { Link: { schema: { type: 'string' }, description: 'rel="next": the next page (RFC 8288)' } },
        },
        '400': BAD,
      },
      {
        parameters: [
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: 'next_cursor of the previous page' },
          { name: 'client_name', in: 'query', required: false, schema: { type: 'string' }, description: 'Exact name' },
          { name: 'group', in: 'query', required: false, schema: ref('GroupName') },
          { name: 'enabled', in: 'query', required: false, schema: { enum: ['true', 'false'] } },
          { name: 'scope', in: 'query', required: false, schema: { type: 'string' }, description: 'Holds this scope, directly or through a group' },
        ],
      },
    ),
    post: op(
      'Register a client; the response holds its secret, shown this once',
      { '201': clientOk('Created (Location: the new client)', ref('ClientWithSecret')), '400': BAD },
      body(ref('NewClient')),
    ),
  },
  '/clients/{client_id}': {
    parameters: [clientId],
    get: op('Show a client', { '200': clientOk('The client', ref('Client')), '404': MISSING }),
    patch: op(
      'Change name, scopes, audiences, groups, enabled, token format, description or token lifetime, all in one transaction',
      { '200': clientOk('The changed client', ref('Client')), '400': BAD, '404': MISSING, '409': CONFLICT, '412': STALE },
      { ...body(ref('ClientUpdate')), parameters: [ifMatch, force] },
    ),
    delete: op(
      'Delete a client; refused for the last enabled client holding oauth:admin unless force=true',
      { '204': noContent, '400': BAD, '404': MISSING, '409': CONFLICT, '412': STALE },
      { parameters: [ifMatch, force] },
    ),
  },
  '/clients/{client_id}/rotate-secret': {
    parameters: [clientId],
    post: op(
      'Issue a new secret, keeping the previous one for the grace period; revoke_tokens decides the fate of tokens already issued',
      { '200': clientOk('The client and its new secret', ref('ClientWithSecret')), '400': BAD, '404': MISSING, '412': STALE },
      { ...body(ref('Rotation'), false), parameters: [ifMatch] },
    ),
  },
  '/clients/{client_id}/disable': {
    parameters: [clientId],
    post: op(
      'Disable a client: no new tokens, and the ones issued so far are void; refused for the last admin client unless force=true',
      { '200': clientOk('The client', ref('Client')), '400': BAD, '404': MISSING, '409': CONFLICT, '412': STALE },
      { parameters: [ifMatch, force] },
    ),
  },
  '/clients/{client_id}/enable': {
    parameters: [clientId],
    post: op(
      'Enable a client',
      { '200': clientOk('The client', ref('Client')), '400': BAD, '404': MISSING, '412': STALE },
      { parameters: [ifMatch] },
    ),
  },
  '/clients/{client_id}/tokens': {
    parameters: [clientId],
    get: op(
      "List the client's live reference tokens (ids and claims, never the tokens), soonest to expire first",
      {
        '200': ok('Live reference tokens', {
          type: 'object',
          required: ['tokens'],
          additionalProperties: false,
          properties: { tokens: { type: 'array', items: ref('ReferenceToken') } },
        }),
        '400': BAD,
        '404': MISSING,
      },
      { parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }] },
    ),
  },
  '/clients/{client_id}/tokens/{jti}': {
    parameters: [clientId, jtiParam],
    delete: op("Revoke one of the client's tokens (JWT or reference) by its jti; idempotent", {
      '204': noContent,
      '400': BAD,
      '404': MISSING,
    }),
  },
  '/clients/{client_id}/groups/{group}': {
    parameters: [clientId, membershipGroup],
    // The target is the client's membership and the representation returned the client: If-Match is the client's ETag.
    put: op(
      'Add the client to a group (idempotent)',
      { '200': clientOk('The client', ref('Client')), '400': BAD, '404': MISSING, '412': STALE },
      { parameters: [ifMatch] },
    ),
    delete: op(
      'Remove the client from a group',
      { '200': clientOk('The client', ref('Client')), '404': MISSING, '412': STALE },
      { parameters: [ifMatch] },
    ),
  },
  '/groups': {
    get: op('List groups', {
      '200': ok('All groups', {
        type: 'object',
        required: ['groups'],
        additionalProperties: false,
        properties: { groups: { type: 'array', items: ref('Group') } },
      }),
    }),
    post: op('Create a group', { '201': groupOk('Created', ref('Group')), '400': BAD, '409': CONFLICT }, body(ref('NewGroup'))),
  },
  '/groups/{name}': {
    parameters: [groupName],
    get: op('Show a group', { '200': groupOk('The group', ref('Group')), '404': MISSING }),
    patch: op(
      "Change a group's scopes or audiences; members see it from their next token request",
      { '200': groupOk('The changed group', ref('Group')), '400': BAD, '404': MISSING, '412': GROUP_STALE },
      { ...body(ref('GroupUpdate')), parameters: [groupIfMatch] },
    ),
    delete: op(
      'Delete a group; refused while it has members unless force=true',
      { '204': noContent, '400': BAD, '404': MISSING, '409': CONFLICT, '412': GROUP_STALE },
      { parameters: [groupIfMatch, { name: 'force', in: 'query', required: false, schema: { enum: ['true', 'false'] } }] },
    ),
  },
  '/keys': {
    get: op('List the signing keys still published in the JWKS, the active one first', {
      '200': ok('The keys', {
        type: 'object',
        required: ['keys'],
        additionalProperties: false,
        properties: { keys: { type: 'array', items: ref('SigningKey') } },
      }),
    }),
  },
  '/keys/rotate': {
    post: op('Make a new signing key active; the previous one stays published until the tokens it signed have expired', {
      '200': ok('The new key', ref('KeyRotation')),
      '400': BAD,
    }),
  },
  '/keys/{kid}/retire': {
    parameters: [kidParam],
    post: op('Take a key out of service now: tokens it signed stop verifying at once (the active key is replaced first)', {
      '200': ok('Retired', ref('KeyRetirement')),
      '400': BAD,
      '404': error('No such key in service'),
    }),
  },
  '/openapi.json': {
    get: op('This document', { '200': ok('OpenAPI 3.1 description', { type: 'object' }) }),
  },
};

/** The OpenAPI 3.1 document served at `GET /openapi.json` under the admin router. */
export function adminOpenApiDocument(location: AdminApiLocation): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'express-client-credentials admin API',
      version: '1',
      description:
        'Client, group, token and signing-key administration. Every operation needs a bearer access token carrying the admin scope; ' +
        'secrets appear only in the responses that create them.',
    },
    servers: [{ url: location.basePath === '' ? '/' : location.basePath }],
    security: [{ oauth2: [location.scope] }],
    paths: PATHS,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: location.tokenUrl, scopes: { [location.scope]: 'Administer clients and groups' } } },
        },
      },
    },
  };
}
