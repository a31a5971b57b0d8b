// The admin family: options of adminRouter(), resolved when the router is created.
import { ADMIN_OPTIONS } from './defaults';
import { optionsObject, resolveTable, type OptionsOf, type ResolvedOf } from './validate';

/** Options of `adminRouter()`. */
export type AdminRouterOptions = OptionsOf<typeof ADMIN_OPTIONS>;

/** Resolved `adminRouter()` options. */
export type ResolvedAdminRouterOptions = ResolvedOf<typeof ADMIN_OPTIONS>;

/** Resolves `adminRouter()` options; throws `TypeError` on misuse. */
export function resolveAdminRouterOptions(options: AdminRouterOptions = {}): ResolvedAdminRouterOptions {
  optionsObject(options, 'adminRouter options');
  return resolveTable(ADMIN_OPTIONS, options, '', { guard: () => ({}) });
}
