// LISTEN/NOTIFY on a dedicated connection (never a pooled one): parses the triggers' deltas, checks it is alive, reconnects with backoff, and asks for a full re-read after every (re)connect.
import { Client, type ClientConfig, type Notification } from 'pg';
import type { StoreChange } from '../types';
import { CHANGE_CHANNEL } from './migrations';

/** Timings of the listener, in ms. */
export interface ChangeListenerTimings {
  /** How often `SELECT 1` checks that the connection is alive: a listener can die without a word. */
  liveness: number;
  /** First wait before reconnecting; doubles up to {@link maxBackoff}. */
  minBackoff: number;
  maxBackoff: number;
}

/** Parses one notification of the announce trigger; undefined for another schema's or a malformed one. */
export function parseChange(payload: string | undefined, schema: string): StoreChange | undefined {
  let value: { s?: unknown; r?: unknown; k?: unknown; id?: unknown; exp?: unknown };
  try {
    value = JSON.parse(payload ?? '') as typeof value;
  } catch {
    return { kind: 'all' };
  }
  if (value === null || typeof value !== 'object' || value.s !== schema) return undefined;
  const revision = typeof value.r === 'number' ? { revision: value.r } : {};
  const id = typeof value.id === 'string' ? value.id : undefined;
  switch (value.k) {
    case 'client':
      return id === undefined ? { kind: 'all', ...revision } : { kind: 'client', id, ...revision };
    case 'group':
      return id === undefined ? { kind: 'all', ...revision } : { kind: 'group', name: id, ...revision };
    case 'keys':
      return { kind: 'keys', ...revision };
    case 'revoked':
      return id === undefined || typeof value.exp !== 'number'
        ? { kind: 'all', ...revision }
        : { kind: 'revoked', jti: id, expiresAt: value.exp, ...revision };
    default:
      return { kind: 'all', ...revision };
  }
}

/**
 * Holds one LISTEN connection. Every successful (re)connect announces `{ kind: 'all' }`, because a
 * notification sent while no one listened is gone; then each notification is announced as its delta.
 * A failed liveness query, a connection error or an unexpected end tears the connection down and
 * reconnects after a backoff, on unref'd timers that never keep a process alive.
 */
export class ChangeListener {
  private client: Client | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  private stopped = false;
  private connecting = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly announce: (change: StoreChange) => void,
    private readonly onError: (err: unknown) => void,
    private readonly timings: ChangeListenerTimings,
  ) {
    this.backoff = timings.minBackoff;
  }

  /** Whether a LISTEN connection is up now. */
  get connected(): boolean {
    return this.client !== undefined && !this.connecting;
  }

  start(): void {
    this.stopped = false;
    if (!this.client && !this.reconnectTimer) void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.teardown();
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    const client = new Client(this.config);
    this.client = client;
    let lost = false;
    const onLoss = (err?: unknown) => {
      if (lost) return;
      lost = true;
      if (err !== undefined) this.onError(err);
      if (this.client === client) void this.lose();
    };
    client.on('error', onLoss);
    client.on('end', () => onLoss());
    try {
      await client.connect();
      const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      const schema = rows[0]?.schema ?? '';
      client.on('notification', (message: Notification) => {
        if (message.channel !== CHANGE_CHANNEL) return;
        const change = parseChange(message.payload, schema);
        if (change) this.announce(change);
      });
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      this.connecting = false;
      onLoss(err);
      return;
    }
    this.connecting = false;
    if (this.stopped || lost) return;
    this.backoff = this.timings.minBackoff;
    this.livenessTimer = setInterval(() => void this.checkLiveness(client), this.timings.liveness);
    this.livenessTimer.unref();
    // Whatever changed before LISTEN took effect was not heard: have every cache re-read.
    this.announce({ kind: 'all' });
  }

  private async checkLiveness(client: Client): Promise<void> {
    try {
      await client.query('SELECT 1');
    } catch (err) {
      if (this.client === client) {
        this.onError(err);
        await this.lose();
      }
    }
  }

  /** Drops the connection and schedules a reconnect. */
  private async lose(): Promise<void> {
    await this.teardown();
    if (this.stopped || this.reconnectTimer) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.timings.maxBackoff);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, wait);
    this.reconnectTimer.unref();
  }

  private async teardown(): Promise<void> {
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.livenessTimer = undefined;
    const client = this.client;
    this.client = undefined;
    this.connecting = false;
    if (client) {
      client.removeAllListeners('notification');
      // An 'error' after end() must not become an unhandled event.
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
