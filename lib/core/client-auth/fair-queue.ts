// A fair, bounded wait queue for costly client verifications: round robin over addresses, then over claimed client ids, shedding from the address with the most in flight.

/** Whom a queued verification is for: the address the request came from and the client id it claims. */
export interface FlowKey {
  address: string;
  clientId: string;
}

/** The outcome of {@link FairQueue.offer}. */
export type Offer<T> =
  | { queued: true; shed?: T }
  | { queued: false };

/** One address's waiting items: a FIFO per claimed client id, served in turn (Map order is the ring). */
interface Flow<T> {
  byClient: Map<string, T[]>;
  queued: number;
}

/**
 * Deficit round robin (Shreedhar & Varghese, 1996) over per-address sub-queues, and within an address
 * over per-client-id sub-queues. Every verification costs one gate slot, so with a quantum of one slot
 * the deficit counters never carry over and DRR reduces to plain round robin; the rings are Maps in
 * insertion order (a served flow is moved to the back), so every operation but shedding is O(1).
 *
 * What this buys: an item from an address with nothing queued waits behind at most one item per other
 * address with something queued, however many those addresses queued, instead of behind a whole flood
 * (first come, first served). Within one address (clients behind one NAT or proxy) each claimed client
 * id takes its turn the same way.
 *
 * Bounded: at most `capacity` items wait. When full, the newcomer displaces the newest item of the
 * address with the most in flight (waiting here plus running, see {@link began}/{@link ended}) if that
 * address holds at least two more than the newcomer's would; otherwise the newcomer is refused. So the
 * addresses that flood are the ones shed, and an address with nothing in flight gets in while any
 * address has two or more.
 *
 * Pure: no clock, no I/O; the caller starts what {@link next} returns.
 */
export class FairQueue<T> {
  private readonly flows = new Map<string, Flow<T>>();
  private readonly running = new Map<string, number>();
  private size_ = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new TypeError('capacity must be a non-negative integer');
  }

  /** Items waiting. */
  get size(): number {
    return this.size_;
  }

  /** Items of `address` waiting plus those started and not yet ended: its share of the work now. */
  inFlight(address: string): number {
    return (this.flows.get(address)?.queued ?? 0) + (this.running.get(address) ?? 0);
  }

  /**
   * Queues `item` for `key`. Returns `{ queued: true }`, with `shed` set to the item it displaced (which
   * the caller must refuse) when the queue was full, or `{ queued: false }` when the newcomer is the one
   * refused.
   */
  offer(key: FlowKey, item: T): Offer<T> {
    let shed: T | undefined;
    if (this.size_ >= this.capacity) {
      const heaviest = this.heaviest();
      if (heaviest === undefined || this.inFlight(heaviest) < this.inFlight(key.address) + 2) return { queued: false };
      shed = this.dropNewest(heaviest);
    }
    let flow = this.flows.get(key.address);
    if (!flow) {
      flow = { byClient: new Map(), queued: 0 };
      this.flows.set(key.address, flow);
    }
    const line = flow.byClient.get(key.clientId);
    if (line) line.push(item);
    else flow.byClient.set(key.clientId, [item]);
    flow.queued++;
    this.size_++;
    return shed === undefined ? { queued: true } : { queued: true, shed };
  }

  /**
   * Takes the next item in turn and counts it as running for its address (call {@link ended} when it
   * finishes); undefined when nothing waits.
   */
  next(): T | undefined {
    const first = this.flows.entries().next();
    if (first.done) return undefined;
    const [address, flow] = first.value;
    const turn = flow.byClient.entries().next();
    if (turn.done) throw new Error('FairQueue: an address with an empty ring');
    const [clientId, line] = turn.value;
    const item = line.shift() as T;
    // Served: this client id goes to the back of its address's ring, and the address to the back of the ring.
    flow.byClient.delete(clientId);
    if (line.length > 0) flow.byClient.set(clientId, line);
    flow.queued--;
    this.size_--;
    this.flows.delete(address);
    if (flow.queued > 0) this.flows.set(address, flow);
    this.began(address);
    return item;
  }

  /** Counts one item of `address` as running (one started without waiting, or returned by {@link next}). */
  began(address: string): void {
    this.running.set(address, (this.running.get(address) ?? 0) + 1);
  }

  /** One running item of `address` finished. */
  ended(address: string): void {
    const count = (this.running.get(address) ?? 0) - 1;
    if (count > 0) this.running.set(address, count);
    else this.running.delete(address);
  }

  /** The address with the most in flight among those with items waiting (the first such in ring order on a tie). */
  private heaviest(): string | undefined {
    let best: string | undefined;
    let most = -1;
    for (const address of this.flows.keys()) {
      const load = this.inFlight(address);
      if (load > most) {
        most = load;
        best = address;
      }
    }
    return best;
  }

  /** Removes and returns the newest item of `address`'s longest client-id line. */
  private dropNewest(address: string): T {
    const flow = this.flows.get(address) as Flow<T>;
    let longest: [string, T[]] | undefined;
    for (const entry of flow.byClient) if (!longest || entry[1].length > longest[1].length) longest = entry;
    const [clientId, line] = longest as [string, T[]];
    const item = line.pop() as T;
    if (line.length === 0) flow.byClient.delete(clientId);
    flow.queued--;
    this.size_--;
    if (flow.queued === 0) this.flows.delete(address);
    return item;
  }
}
