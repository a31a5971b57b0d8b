// The guard benches' fixture: one client and one RS256 token of it in a fresh SQLite database, as the guard cases of bench/run.js use.
'use strict';
const path = require('node:path');

const ISSUER = 'http://127.0.0.1:9999';

/** Creates the database in `dir` (from the build in dist/) and returns where it is, the client's id and its token. */
async function prepareGuardFixture(dir) {
  const lib = require(path.join(__dirname, '..', 'dist'));
  const database = path.join(dir, 'guard.sqlite');
  const oauth = lib.createOAuth({ issuer: ISSUER, database, bcryptCost: 10, logger: { warn() {}, error() {} } });
  const { client } = await oauth.registry.create({ name: 'guard-bench', scopes: 'read write' });
  const token = (await oauth.server.issueToken(client, { grant_type: 'client_credentials', scope: 'read' })).access_token;
  await oauth.close();
  return { database, clientId: client.id, token };
}

module.exports = { ISSUER, prepareGuardFixture };
