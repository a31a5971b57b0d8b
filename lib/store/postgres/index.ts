// The `express-client-credentials/store/postgres` subpath: the PostgreSQL store for several instances (`createOAuth({ database: 'postgres://...' })` opens it by itself).
export { PostgresStore, type PostgresStoreOptions } from './store';
