// Type-level checks of req.auth (module augmentation of Express's Request): compiled by `npm run typecheck`, never run by jest.
import express, { type Request } from 'express';
import { requireScope, withAuth, type AuthInfo, type AuthenticatedRequest } from '../../lib';

const app = express();

app.get('/api/items', requireScope('read'), (req, res) => {
  // Typed without casts: scopes is a string array, the claims carry the RFC 9068 members.
  const auth: AuthInfo | undefined = req.auth;
  const scopes: string[] = req.auth?.scopes ?? [];
  const clientId: string | undefined = req.auth?.clientId;
  const issuer: string | undefined = req.auth?.claims.iss;
  const expiry: number | undefined = req.auth?.claims.exp;
  const canWrite: boolean = scopes.includes('write');

  // @ts-expect-error scopes is an array, not a space-delimited string
  const asString: string | undefined = req.auth?.scopes;
  // @ts-expect-error req.auth is optional: a route without a guard has none
  const unchecked: string = req.auth.clientId;
  // @ts-expect-error no such member
  void req.auth?.scope;

  res.json({ auth, clientId, issuer, expiry, canWrite, asString, unchecked });
});

// @ts-expect-error requireScope needs at least one scope
requireScope();
// @ts-expect-error options follow the scopes, never stand alone
requireScope({ allowBodyToken: true });
requireScope.any('read', 'admin', { acceptScp: true });

// Issue 10.17: behind a guard, withAuth() types req.auth as set: no `req.auth!`.
app.get('/api/items/:id', requireScope('read'), withAuth<Request<{ id: string }>>((req, res) => {
  const clientId: string = req.auth.clientId;
  const id: string = req.params.id;
  res.json({ clientId, id });
}));
app.post('/api/items', requireScope('write'), withAuth(async (req, res) => {
  const scopes: string[] = req.auth.scopes;
  res.status(201).json({ scopes });
}));
function handler(req: AuthenticatedRequest): string {
  return req.auth.claims.sub;
}
void handler;
// @ts-expect-error a plain Request's auth stays optional
const notAuthenticated: AuthenticatedRequest = {} as Request;
void notAuthenticated;

export { app };
