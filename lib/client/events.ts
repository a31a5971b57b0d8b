// Token client events: a typed EventEmitter like the server's audit events (lib/core/events.ts), so an app can count them. Never a token or a secret in them.
import { EventEmitter } from 'node:events';

/** Payloads of every token client event, by name. `scopes`/`resources` name the cache key. */
export interface TokenClientEvents {
  /** A token came from the token endpoint. `expiresIn` in seconds; `cached` is false for a token without `expires_in`. */
  'token.fetched': { scopes: string[]; resources: string[]; expiresIn: number | undefined; cached: boolean };
  /** A token request failed; the next one waits `retryAfter` seconds. */
  'token.fetch_failed': {
    scopes: string[];
    resources: string[];
    error: string;
    status: number | undefined;
    failures: number;
    retryAfter: number;
  };
  /** A resource answered 401 `invalid_token` to a cached token; the call was retried once with a fresh one. */
  'token.retried_after_401': { scopes: string[]; resources: string[]; url: string };
  /** A resource answered 401 `invalid_token` to a token fetched moments ago; the 401 was returned, not retried. */
  'token.rejected': { scopes: string[]; resources: string[]; url: string };
}

export type TokenClientEventName = keyof TokenClientEvents;

/** Every event also carries its name and time (epoch ms), so one `'event'` listener can log them all. */
export type TokenClientEvent<K extends TokenClientEventName = TokenClientEventName> = TokenClientEvents[K] & { type: K; time: number };

/**
 * The token client's event bus. Listen to one event by name, or to `'event'` for all of them. A
 * listener that throws is reported to `onListenerError`; it never breaks the call that emitted.
 *
 * @example
 * let fetched = 0;
 * client.events.on('token.fetched', () => fetched++);
 */
export class TokenClientEmitter extends EventEmitter {
  constructor(
    private readonly now: () => number,
    private readonly onListenerError: (err: unknown) => void = () => undefined,
  ) {
    super();
  }

  /** Emits `name` and `'event'` with the payload plus `type` and `time`. */
  record<K extends TokenClientEventName>(name: K, payload: TokenClientEvents[K]): void {
    const event = { ...payload, type: name, time: this.now() } as TokenClientEvent<K>;
    try {
      this.emit(name, event);
      this.emit('event', event);
    } catch (err) {
      this.onListenerError(err);
    }
  }
}
