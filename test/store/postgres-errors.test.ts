// node-postgres failures become StoreErrors in one place: unique violations are conflicts, lost or refused connections and timeouts are `unavailable` (503 with Retry-After).
import { StoreError } from '../../lib/store';
import { toOAuthError } from '../../lib/core/model/errors';
import { translatePgError } from '../../lib/store/postgres/errors';

function pgError(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

describe('translatePgError', () => {
  it.each([
    ['23505 unique_violation', pgError('23505'), 'conflict'],
    ['40001 serialization_failure', pgError('40001'), 'busy'],
    ['55P03 lock_not_available', pgError('55P03'), 'busy'],
    ['25006 read_only_sql_transaction', pgError('25006'), 'readonly'],
    ['57014 statement_timeout', pgError('57014'), 'unavailable'],
    ['57P01 terminated by pg_terminate_backend', pgError('57P01'), 'unavailable'],
    ['08006 connection_failure', pgError('08006'), 'unavailable'],
    ['ECONNREFUSED', pgError('ECONNREFUSED'), 'unavailable'],
    ['ECONNRESET', pgError('ECONNRESET'), 'unavailable'],
    ['the pool timing out on connect', new Error('timeout exceeded when trying to connect'), 'unavailable'],
    ['a connection ended mid-query', new Error('Connection terminated unexpectedly'), 'unavailable'],
    ['the client-side query_timeout', new Error('Query read timeout'), 'unavailable'],
  ])('maps %s to a %s StoreError that keeps the driver error as cause', (_what, err, code) => {
    const translated = translatePgError(err);
    expect(translated).toBeInstanceOf(StoreError);
    expect(translated).toMatchObject({ code, cause: err });
  });

  it('leaves other errors (a bug, a bad statement) as they are, so they end as a bare server_error', () => {
    const syntax = pgError('42601');
    expect(translatePgError(syntax)).toBe(syntax);
    const plain = new Error('boom');
    expect(translatePgError(plain)).toBe(plain);
    expect(toOAuthError(syntax)).toMatchObject({ status: 500, error: 'server_error' });
  });

  it('answers an unavailable database with 503 temporarily_unavailable and Retry-After (RFC 6749 §5.2, RFC 9110 §10.2.3)', () => {
    const error = toOAuthError(translatePgError(pgError('ECONNREFUSED')));
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '2' } });
    expect(JSON.stringify(error)).not.toMatch(/ECONNREFUSED|postgres/i);
  });
});
