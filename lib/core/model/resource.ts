// RFC 8707 §2 resource indicators: the one rule for a token request's `resource` and for every audience an administrator stores.

/**
 * RFC 8707 §2: a resource is an absolute URI (RFC 3986 §4.3: scheme ":" hier-part [ "?" query ])
 * and must not include a fragment. The characters are RFC 3986's (unreserved, sub-delims, ":", "@",
 * "/", "?", IP-literal brackets, percent-encodings), so no space, quote or `#` ever reaches a token.
 * Also the OpenAPI `pattern` of the admin API's audiences.
 */
export const RESOURCE_INDICATOR_PATTERN = "^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@/?\\[\\]]|%[0-9A-Fa-f]{2})+$";

/** The longest resource indicator accepted (a longer one is a mistake or an attack). */
export const MAX_RESOURCE_LENGTH = 2000;

const RESOURCE = new RegExp(RESOURCE_INDICATOR_PATTERN);

/** Why `value` is not an RFC 8707 resource indicator, or undefined when it is one. */
export function resourceIndicatorProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be a non-empty string';
  if (value.length > MAX_RESOURCE_LENGTH) return `must be at most ${MAX_RESOURCE_LENGTH} characters`;
  if (value.includes('#')) return 'must not include a fragment (RFC 8707 §2)';
  if (!RESOURCE.test(value)) return 'must be an absolute URI (RFC 8707 §2, RFC 3986 §4.3), e.g. https://api.example.com/orders';
  return undefined;
}

/** Whether `value` is an RFC 8707 resource indicator: an absolute URI without a fragment. */
export function isResourceIndicator(value: unknown): value is string {
  return resourceIndicatorProblem(value) === undefined;
}
