// The one place body-parser's failures (it tags them with `type`) become invalid_request errors with a fitting HTTP status; bodies over the limit are refused unread, and bodies that do not arrive in time are given up on.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { InvalidRequestError, type OAuthError } from '../core/model/errors';

/**
 * Maps a body-parser failure to `invalid_request`: 413 for a body or parameter count over the limit,
 * 415 for an unsupported charset or encoding, 400 with `malformed` for anything else it reports.
 * Returns undefined for an error body-parser did not raise.
 */
export function bodyParserError(err: unknown, malformed = 'the request body is malformed'): OAuthError | undefined {
  switch ((err as { type?: unknown } | null)?.type) {
    case 'request.timeout':
      return new InvalidRequestError('the request body did not arrive in time', { status: 408, cause: err });
    case 'entity.too.large':
      return new InvalidRequestError('the request body is too large', { status: 413, cause: err });
    case 'parameters.too.many':
      return new InvalidRequestError('the request body has too many parameters', { status: 413, cause: err });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new InvalidRequestError('the request body encoding is not supported', { status: 415, cause: err });
    case 'entity.parse.failed':
    case 'entity.verify.failed':
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return new InvalidRequestError(malformed, { cause: err });
    default:
      return undefined;
  }
}

/**
 * Wraps a body-parser middleware so that a body over `limit` bytes is refused with 413 as soon as
 * that is known, from its `Content-Length` or from the bytes received so far, and a body that has
 * not arrived in full within `deadline` milliseconds is refused with 408 (RFC 9110 §15.5.9). Both
 * answers close the connection behind them. body-parser itself reads off the whole rest of a body
 * it refused before it calls back, and waits for a slow body for as long as the client keeps
 * trickling it (Node's own `server.requestTimeout` is 5 minutes), so a client could otherwise make
 * the server read a body of any size, or hold a connection and a parser open indefinitely.
 */
export function refuseOversizedBodies(parser: RequestHandler, limit: number, deadline?: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let settled = false;
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      req.off('data', count);
      next(err);
    };
    const refuse = (err: Error) => {
      res.set('Connection', 'close');
      // The answer is flushed, then the connection closed both ways: a client still trickling the
      // body must not keep it half open.
      res.once('finish', () => {
        const socket = req.socket;
        if (socket && !socket.destroyed) socket.end(() => socket.destroy());
      });
      finish(err);
    };
    // Tagged as body-parser tags its errors, so bodyParserError() maps them like the parser's own.
    const tooLarge = () => refuse(Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, limit, received }));
    const tooSlow = () => refuse(Object.assign(new Error('request body timed out'), { type: 'request.timeout', status: 408, received }));
    function count(chunk: Buffer): void {
      received += chunk.length;
      if (received > limit) tooLarge();
    }
    if (Number(req.headers['content-length']) > limit) return tooLarge();
    parser(req, res, finish);
    if (settled) return;
    // Counted as received; a compressed body is left to the parser, whose limit is on its inflated size.
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') req.on('data', count);
    if (deadline !== undefined && !req.complete) timer = setTimeout(tooSlow, deadline).unref();
  };
}
