// A failure limit's 429 (RFC 6585 §4, RFC 6749 §5.2 body), rendered once per distinct refusal and written with one writeHead: a flood's refusals are most of what it costs.
import type { Response } from 'express';
import type { TooManyAttemptsError } from '../core/model/errors';
import { RENDERED_ERROR } from './endpoint-metrics';

/** A refusal's status line, headers and body, as sent. */
interface Rendered {
  status: number;
  /** Name, value, name, value…: what `writeHead` takes without building an object. */
  headers: string[];
  body: string;
  error: string | undefined;
}

/** Distinct refusals differ only by their limit and Retry-After: a few hundred at most; past this, start over. */
const MAX_RENDERED = 512;

/**
 * Writes refusals as {@link renderOAuthError} and `setNoStore` would (status, the error's headers,
 * `Cache-Control: no-store`, `Pragma: no-cache`, the JSON body), without res.json()'s ETag and
 * freshness work, and without rendering the same refusal twice: each distinct one (its message and
 * Retry-After) is rendered once and kept, in a bounded map.
 */
export class RefusalResponses {
  private readonly rendered = new Map<string, Rendered>();

  write(res: Response, err: TooManyAttemptsError): void {
    const rendered = this.renderedOf(err);
    res.locals[RENDERED_ERROR] = rendered.error;
    res.writeHead(rendered.status, rendered.headers);
    res.end(rendered.body);
  }

  private renderedOf(err: TooManyAttemptsError): Rendered {
    const key = `${err.status} ${err.retryAfterSeconds} ${err.message}`;
    let rendered = this.rendered.get(key);
    if (rendered === undefined) {
      const body = JSON.stringify(err.toJSON());
      const headers = ['Cache-Control', 'no-store', 'Pragma', 'no-cache'];
      for (const [name, value] of Object.entries(err.headers)) headers.push(name, value);
      headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)));
      rendered = { status: err.status, headers, body, error: err.error ?? undefined };
      if (this.rendered.size >= MAX_RENDERED) this.rendered.clear();
      this.rendered.set(key, rendered);
    }
    return rendered;
  }
}
