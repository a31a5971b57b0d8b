// The token benches' request and fixture: a token request as a client sends it (Basic or body credentials), and a returning client in an RS256 and an ES256 database.
'use strict';
const path = require('node:path');
const { ISSUER } = require('./guard-fixture');

const FORM = 'application/x-www-form-urlencoded';
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** The headers and body of a client credentials request, the credentials in a Basic header or in the form body (RFC 6749 §2.3.1). */
const tokenRequest = (id, secret, how) =>
  how === 'basic'
    ? { headers: { 'content-type': FORM, authorization: basic(id, secret) }, body: 'grant_type=client_credentials&scope=read' }
    : {
        headers: { 'content-type': FORM },
        body: `grant_type=client_credentials&scope=read&client_id=${id}&client_secret=${encodeURIComponent(secret)}`,
      };

/** For RS256 and ES256, a fresh SQLite database in `dir` (from the build in dist/) holding one client: where it is, the client's id and secret. */
async function prepareTokenFixture(dir) {
  const lib = require(path.join(__dirname, '..', 'dist'));
  const made = {};
  for (const alg of ['RS256', 'ES256']) {
    const database = path.join(dir, `token-${alg}.sqlite`);
    const oauth = lib.createOAuth({ issuer: ISSUER, database, bcryptCost: 10, signingAlgorithm: alg, logger: { warn() {}, error() {} } });
    const { client, clientSecret } = await oauth.registry.create({ name: 'returning', scopes: 'read write' });
    made[alg] = { database, id: client.id, secret: clientSecret };
    await oauth.close();
  }
  return made;
}

module.exports = { tokenRequest, prepareTokenFixture };
