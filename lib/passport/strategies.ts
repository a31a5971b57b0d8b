// Passport strategies for client authentication: HTTP Basic (passport-http) and body credentials, with RFC 6749 §2.3.1 decoding.
import { Passport } from 'passport';
import { BasicStrategy } from 'passport-http';
// passport-oauth2-client-password ships no types; its constructor takes (verify(id, secret, done)).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import ClientPasswordStrategy = require('passport-oauth2-client-password');
import { InvalidClientError } from '../core/model/errors';
import type { Client } from '../core/model/client';

/** Passport names of the two strategies. */
export const BASIC = 'client-basic';
export const BODY = 'client-body';

/** Authenticates a client by id and secret; rejects with InvalidClientError on bad credentials. */
export type AuthenticateClient = (clientId: string, clientSecret: string) => Promise<Client>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * RFC 6749 §2.3.1: id and secret are form-urlencoded before they go into the Basic credentials.
 * Returns undefined for a malformed encoding.
 */
export function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The outcome of reading an `Authorization: Basic` header. */
export type BasicCredentials =
  | { ok: true; clientId: string; clientSecret: string }
  | { ok: false; reason: string };

/**
 * Reads `Authorization: Basic <base64(id:secret)>` strictly: canonical base64, UTF-8, exactly one
 * colon (the encoded id and secret contain none), both parts non-empty after form-decoding.
 * passport-http splits on every colon and never decodes, so the router calls this first and only
 * hands passport-http headers this accepts.
 */
export function parseBasicCredentials(header: string): BasicCredentials {
  const match = /^Basic +(\S+)$/i.exec(header);
  if (!match) return { ok: false, reason: 'malformed Basic credentials' };
  const encoded = match[1] as string;
  if (!BASE64.test(encoded)) return { ok: false, reason: 'Basic credentials are not valid base64' };
  let text: string;
  try {
    text = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return { ok: false, reason: 'Basic credentials are not valid UTF-8' };
  }
  const parts = text.split(':');
  if (parts.length !== 2) return { ok: false, reason: 'Basic credentials must be client_id:client_secret' };
  const clientId = formDecode(parts[0] as string);
  const clientSecret = formDecode(parts[1] as string);
  if (clientId === undefined || clientSecret === undefined) {
    return { ok: false, reason: 'Basic credentials are not correctly form-encoded (RFC 6749 §2.3.1)' };
  }
  if (clientId === '' || clientSecret === '') return { ok: false, reason: 'Basic credentials have an empty part' };
  return { ok: true, clientId, clientSecret };
}

type Done = (err: unknown, client?: Client | false) => void;

function verifier(authenticate: AuthenticateClient, decode: boolean) {
  return (rawId: string, rawSecret: string, done: Done): void => {
    const clientId = decode ? formDecode(rawId) : rawId;
    const clientSecret = decode ? formDecode(rawSecret) : rawSecret;
    if (!clientId || !clientSecret) return done(null, false);
    authenticate(clientId, clientSecret).then(
      (client) => done(null, client),
      (err: unknown) => (err instanceof InvalidClientError ? done(null, false) : done(err)),
    );
  };
}

/**
 * A private Passport instance (the host app's global one is left alone) with the Basic strategy
 * (passport-http, decoding id and secret in the verify step) and the body-credential strategy
 * (passport-oauth2-client-password's ClientPasswordStrategy, which reads `req.body`).
 */
export function createClientPassport(authenticate: AuthenticateClient, realm: string): InstanceType<typeof Passport> {
  const passport = new Passport();
  passport.use(BASIC, new BasicStrategy({ realm }, verifier(authenticate, true)));
  passport.use(BODY, new ClientPasswordStrategy(verifier(authenticate, false)));
  return passport;
}
