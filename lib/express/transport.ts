// Transport checks of the token endpoint: TLS required (RFC 6749 §3.2, §2.3.1) and a bound on header size.
import type { Request } from 'express';
import { InvalidRequestError } from '../core/model/errors';

/** What {@link checkTransport} enforces. */
export interface TransportLimits {
  requireTls: boolean;
  headerLimit: number;
}

/** Bytes of the request's header section as received (names, values, `: ` and CRLF). */
export function headerBytes(req: Request): number {
  let total = 0;
  // Node decodes the header section as latin1, one byte a character (Buffer.byteLength in latin1 is the length).
  for (const part of req.rawHeaders) total += part.length + 2;
  return total;
}

/**
 * Refuses a token request that did not arrive over TLS when `requireTls` is set (RFC 6749 §3.2: the
 * endpoint MUST use TLS, and client secrets travel in the request), and one whose headers exceed
 * `headerLimit`. `req.secure` is Express's: behind a TLS-terminating proxy it is true only when
 * `app.set('trust proxy', ...)` lets Express read `X-Forwarded-Proto`.
 */
export function checkTransport(req: Request, limits: TransportLimits): void {
  if (limits.requireTls && !req.secure) {
    throw new InvalidRequestError(
      'the token endpoint requires HTTPS (RFC 6749 §3.2); behind a TLS-terminating proxy, set the Express trust proxy setting so the forwarded protocol is honoured',
    );
  }
  if (headerBytes(req) > limits.headerLimit) {
    throw new InvalidRequestError(`the request headers are larger than ${limits.headerLimit} bytes`, { status: 431 });
  }
}
