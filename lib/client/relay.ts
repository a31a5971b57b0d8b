// An Express-friendly helper, without importing Express: answer a route with what another guarded service answered to the token client's call.

/** The part of an Express (4 or 5) response that {@link relay} uses. */
export interface RelayTarget {
  status(code: number): { send(body: Buffer): unknown };
  setHeader(name: string, value: string): unknown;
}

/** Upstream headers passed on: what the body needs to be read, nothing about the upstream's auth. */
const PASSED_HEADERS = ['content-type', 'content-language', 'cache-control', 'etag', 'last-modified'];

/**
 * Sends the upstream's status, body and content headers as this route's answer. An upstream 401 is
 * answered with 502 Bad Gateway and no `WWW-Authenticate`: it refused this service's token, not the
 * caller's, so the caller must not drop its own token over it. Rejects (pass it to `next`) when no
 * token could be had ({@link TokenClientError}) or the upstream could not be reached.
 *
 * @example
 * app.get('/catalog', (req, res, next) => {
 *   relay(res, client.fetch(`${itemsUrl}/api/items`)).catch(next);
 * });
 */
export async function relay(res: RelayTarget, upstream: Response | Promise<Response>): Promise<void> {
  const response = await upstream;
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status === 401) {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.status(502).send(Buffer.from(JSON.stringify({ error: 'bad_gateway', error_description: 'the upstream service refused this service\'s token' })));
    return;
  }
  for (const name of PASSED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) res.setHeader(name, value);
  }
  res.status(response.status).send(body);
}
