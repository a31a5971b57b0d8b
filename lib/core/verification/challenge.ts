// WWW-Authenticate values (RFC 7235 §4.1, RFC 7617, RFC 6750 §3) with correct quoting and escaping.

/** RFC 7230 §3.2.6 quoted-string: backslash-escape `"` and `\`, and drop characters a header cannot carry. */
export function quoteString(value: string): string {
  const safe = value.replace(/[^\t\x20-\x7E]/g, '');
  return `"${safe.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** RFC 6750 §3: `error_description` may only use %x20-21 / %x23-5B / %x5D-7E, so `"` and `\` are removed, not escaped. */
function describe(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');
}

/** `Basic realm="..."` (RFC 7617 §2), with the charset parameter that says credentials are UTF-8. */
export function basicChallenge(realm: string): string {
  return `Basic realm=${quoteString(realm)}, charset="UTF-8"`;
}

/**
 * A Bearer challenge (RFC 6750 §3). With no `error`, only the realm: the request carried no token.
 * `resourceMetadata` is the URL of the resource's RFC 9728 metadata (§5.1 `resource_metadata`).
 */
export function bearerChallenge(args: {
  realm: string;
  error?: string | null;
  description?: string;
  scope?: readonly string[];
  resourceMetadata?: string | undefined;
}): string {
  const params = [`realm=${quoteString(args.realm)}`];
  if (args.error) {
    params.push(`error="${args.error}"`);
    if (args.description) params.push(`error_description="${describe(args.description)}"`);
  }
  if (args.scope && args.scope.length > 0) params.push(`scope=${quoteString(args.scope.join(' '))}`);
  if (args.resourceMetadata) params.push(`resource_metadata=${quoteString(args.resourceMetadata)}`);
  return `Bearer ${params.join(', ')}`;
}

/**
 * A DPoP challenge (RFC 9449 §7.1): the same parameters as Bearer's, plus `algs`, the proof algorithms
 * the resource accepts.
 */
export function dpopChallenge(args: {
  realm: string;
  algs: readonly string[];
  error?: string | null;
  description?: string;
  scope?: readonly string[];
  resourceMetadata?: string | undefined;
}): string {
  return `DPoP ${bearerChallenge(args).slice('Bearer '.length)}, algs=${quoteString(args.algs.join(' '))}`;
}
