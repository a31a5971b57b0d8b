// The client's address, taken once when a client-authenticated request starts (through Express's trust proxy rules) and carried with the request to the failure limits and audit events.
import type { Request } from 'express';
import { InvalidRequestError } from '../core/model/errors';

/** Keyed by the request, and by a view of it that carries the same address (see {@link withClientAddressOf}). */
const addresses = new WeakMap<object, string>();

/**
 * Takes the request's address now, as `req.ip` gives it (proxy-addr over the socket's remote address
 * and `X-Forwarded-For`, per the app's `trust proxy`), and keeps it for the rest of the request.
 *
 * Why now: `req.ip` reads the socket's remote address each time, and once the client resets the
 * connection the socket no longer has one. A client that resets right after writing its request
 * (0-3 ms) would otherwise reach the failure limits with no address, skipping the per-address limit
 * and count (issue 19). Reading it at the start also makes Node keep the peer name for the socket.
 *
 * Throws `invalid_request` (400) when the address cannot be known (the connection is already gone):
 * an attempt no per-address limit can hold is never evaluated.
 */
export function takeClientAddress(req: Request): string {
  const known = addresses.get(req);
  if (known !== undefined) return known;
  const address = requestAddress(req);
  if (address === undefined || address === '') {
    throw new InvalidRequestError('the client address cannot be determined; the request is not evaluated');
  }
  addresses.set(req, address);
  return address;
}

/**
 * `req.ip`, without its work when the app trusts no proxy (`trust proxy` false, Express's default):
 * proxy-addr then answers the socket's address whatever `X-Forwarded-For` says, but reading that header
 * first makes Node build `req.headers`, which an early refusal never needs.
 */
function requestAddress(req: Request): string | undefined {
  return req.app.get('trust proxy') === false ? req.socket.remoteAddress : req.ip;
}

/** The address {@link takeClientAddress} took for this request, or for the request `view` stands for (undefined before it ran). */
export function clientAddress(req: object): string | undefined {
  return addresses.get(req);
}

/** `view`, carrying the address taken for `req`, so what reads the address of one reads it of the other. */
export function withClientAddressOf<T extends object>(req: Request, view: T): T {
  const address = addresses.get(req);
  if (address !== undefined) addresses.set(view, address);
  return view;
}
