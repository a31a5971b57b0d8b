// Every value of a request header as sent: Node joins or drops repeated headers, the raw list keeps them (RFC 9449 §4.3 item 1 counts DPoP headers).
import type { Request } from 'express';

/** Every value of header `name` (lower case) the request carried, in order. */
export function headerValues(req: Request, name: string): string[] {
  const values: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i];
    // Node decodes header names as latin1, whose lower case keeps the length: the cheap test first.
    if (field !== undefined && field.length === name.length && field.toLowerCase() === name) values.push(raw[i + 1] ?? '');
  }
  return values;
}

/**
 * The first value of header `name` (lower case), as Node's `req.headers[name]` gives it for a header
 * it keeps only once (authorization, content-type…), read from the raw list: Node builds
 * `req.headers` on first access, for every header, which a request answered at once never needs.
 */
export function firstHeaderValue(req: Request, name: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i];
    if (field !== undefined && field.length === name.length && field.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}
