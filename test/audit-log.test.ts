// jsonLinesAuditLogger(), limitOptionsFromEnv() and keyRotationOptionsFromEnv(): the helpers an app wires at its edge.
import { createOAuth } from '../lib';
import { jsonLinesAuditLogger } from '../lib/audit-log';
import { keyRotationOptionsFromEnv, limitOptionsFromEnv } from '../lib/env';
import { fakeClock, memoryLogger, tempDir } from './helpers';
import { join } from 'node:path';

describe('jsonLinesAuditLogger', () => {
  it('writes each audit event as one JSON line with its type and time', async () => {
    const { dir, cleanup } = tempDir();
    const clock = fakeClock();
    const oauth = createOAuth({ issuer: 'https://auth.test', database: join(dir, 'db.sqlite'), bcryptCost: 4, clock: clock.now, logger: memoryLogger() });
    const lines: string[] = [];
    oauth.events.on('audit', jsonLinesAuditLogger({ write: (chunk: string) => lines.push(chunk) }));
    const { client } = await oauth.registry.create({ name: 'billing', scopes: 'read' });
    await oauth.registry.setEnabled(client.id, false);
    expect(lines).toEqual([
      `{"clientId":"${client.id}","name":"billing","scopes":["read"],"type":"client.created","time":${clock.now()}}\n`,
      `{"clientId":"${client.id}","type":"client.disabled","time":${clock.now()}}\n`,
    ]);
    await oauth.close();
    cleanup();
  });
});

describe('limitOptionsFromEnv', () => {
  it('maps the OAUTH_* limit variables to options and leaves unset or empty ones to the defaults', () => {
    expect(
      limitOptionsFromEnv({ OAUTH_ADDRESS_FAILURE_LIMIT: '50', OAUTH_CLIENT_MAX_BACKOFF: ' 30 ', OAUTH_CLIENT_FAILURE_LIMIT: '', PATH: '/bin' }),
    ).toEqual({ addressFailureLimit: 50, clientMaxBackoff: 30 });
  });

  it('maps OAUTH_REFUSAL_DELAY (ms) and OAUTH_MAX_DELAYED_REFUSALS, 0 included (0 turns the delay off)', () => {
    expect(limitOptionsFromEnv({ OAUTH_REFUSAL_DELAY: '0', OAUTH_MAX_DELAYED_REFUSALS: '250' })).toEqual({ refusalDelay: 0, maxDelayedRefusals: 250 });
    expect(() => limitOptionsFromEnv({ OAUTH_REFUSAL_DELAY: '1s' })).toThrow(new TypeError('OAUTH_REFUSAL_DELAY must be a non-negative integer, not "1s"'));
  });

  it('throws a TypeError naming the variable for a value that is not a non-negative integer', () => {
    expect(() => limitOptionsFromEnv({ OAUTH_MAX_QUEUED_AUTHENTICATIONS: '-1' })).toThrow(
      new TypeError('OAUTH_MAX_QUEUED_AUTHENTICATIONS must be a non-negative integer, not "-1"'),
    );
  });
});

describe('keyRotationOptionsFromEnv', () => {
  it('maps OAUTH_KEY_ROTATION (whole days) and OAUTH_KEY_PUBLISH_AHEAD (seconds) to options, leaving unset or empty ones out', () => {
    expect(keyRotationOptionsFromEnv({ OAUTH_KEY_ROTATION: '30d', OAUTH_KEY_PUBLISH_AHEAD: '10m' })).toEqual({ keyRotationDays: 30, keyPublishAhead: 600 });
    expect(keyRotationOptionsFromEnv({ OAUTH_KEY_ROTATION: '720h', OAUTH_KEY_PUBLISH_AHEAD: '' })).toEqual({ keyRotationDays: 30 });
    expect(keyRotationOptionsFromEnv({ PATH: '/bin' })).toEqual({});
  });

  it('throws a TypeError naming the variable for a period that is not whole days or a value that is not a duration', () => {
    expect(() => keyRotationOptionsFromEnv({ OAUTH_KEY_ROTATION: '36h' })).toThrow(
      new TypeError('OAUTH_KEY_ROTATION must be whole days such as 30d, not "36h"'),
    );
    expect(() => keyRotationOptionsFromEnv({ OAUTH_KEY_PUBLISH_AHEAD: 'soon' })).toThrow(
      new TypeError('OAUTH_KEY_PUBLISH_AHEAD must be a duration such as 600, 10m, 24h or 30d, not "soon"'),
    );
  });
});
