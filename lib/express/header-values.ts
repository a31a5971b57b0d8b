// Every value of a request header as sent: Node joins or drops repeated headers, the raw list keeps them (RFC 9449 §4.3 item 1 counts DPoP headers).
import type { Request } from 'express';

/** Every value of header `name` (lower case) the request carried, in order. */
export function headerValues(req: Request, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === name) values.push(req.rawHeaders[i + 1] ?? '');
  }
  return values;
}
