// The `express-client-credentials/store` subpath: the async Store interfaces a storage backend implements, and StoreError.
export { StoreError } from './types';
export type * from './types';
export type { StoredSigningKey } from '../core/model/key';
