// relay(): a route answers with the upstream's status, body and content headers; an upstream 401 (our token refused) becomes a 502 so the caller keeps its own token.
import { relay, type RelayTarget } from '../../lib/client';

function target(): RelayTarget & { sent: { status: number; headers: Record<string, string>; body: string } } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: '' };
  return {
    sent,
    setHeader(name, value) {
      sent.headers[name.toLowerCase()] = value;
    },
    status(code) {
      sent.status = code;
      return { send: (body: Buffer) => (sent.body = body.toString('utf8')) };
    },
  };
}

describe('relay', () => {
  it('passes status, body and content headers, not the upstream auth headers', async () => {
    const res = target();
    const upstream = new Response('{"items":[]}', {
      status: 201,
      headers: { 'content-type': 'application/json', etag: '"1"', 'www-authenticate': 'Bearer', 'set-cookie': 'a=b' },
    });
    await relay(res, Promise.resolve(upstream));
    expect(res.sent).toEqual({ status: 201, headers: { 'content-type': 'application/json', etag: '"1"' }, body: '{"items":[]}' });
  });

  it('answers an upstream 401 with 502 and no challenge (the caller must not drop its own token, RFC 6750 §3.1)', async () => {
    const res = target();
    await relay(res, new Response('{"error":"invalid_token"}', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }));
    expect(res.sent.status).toBe(502);
    expect(res.sent.headers['www-authenticate']).toBeUndefined();
    expect(JSON.parse(res.sent.body)).toEqual({ error: 'bad_gateway', error_description: "the upstream service refused this service's token" });
  });

  it('rejects when the call failed, for the route to pass to next()', async () => {
    await expect(relay(target(), Promise.reject(new Error('unreachable')))).rejects.toThrow('unreachable');
  });
});
