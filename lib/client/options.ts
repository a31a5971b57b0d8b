// The token client's options live with every other family in lib/options/client.ts (one table: check, default, README row); re-exported here for the client's modules.
export {
  CLIENT_DEFAULTS,
  isLoopback,
  resolveTokenClientOptions,
  type ResolvedTokenClientOptions,
  type TokenClientOptions,
} from '../options/client';
