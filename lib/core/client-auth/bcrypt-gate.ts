// Which gate the bcrypt work of the authentication under way goes through: set by ClientAuthGuard, used by SecretVerifier, so a remembered secret takes no slot.
import { AsyncLocalStorage } from 'node:async_hooks';

/** Runs a job within a gate's limits (see WorkGate.run). */
export type GateRunner = <T>(job: () => Promise<T>) => Promise<T>;

const current = new AsyncLocalStorage<GateRunner>();

/**
 * Runs `authenticate` so that bcrypt comparisons made inside it go through `gate`. Passport sits
 * between the guard and the verifier and passes no context, hence async-local storage. Only the
 * comparisons wait for a slot: a returning client whose secret is remembered costs no bcrypt and
 * does not queue behind first contacts or guessed secrets.
 */
export function withBcryptGate<T>(gate: GateRunner, authenticate: () => Promise<T>): Promise<T> {
  return current.run(gate, authenticate);
}

/** Runs one bcrypt job through the gate of the authentication under way, or directly outside one. */
export function throughBcryptGate<T>(job: () => Promise<T>): Promise<T> {
  const gate = current.getStore();
  return gate ? gate(job) : job();
}
