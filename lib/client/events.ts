// Token client events: the same typed emitter as the server's audit events (RecordingEmitter), so an app can count them. Never a token or a secret in them.
import { RecordingEmitter } from '../core/model/recording-emitter';

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
export class TokenClientEmitter extends RecordingEmitter<TokenClientEvents> {
  constructor(now: () => number, onListenerError: (err: unknown) => void = () => undefined) {
    super('event', now, onListenerError);
  }
}
