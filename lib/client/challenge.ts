// Reads the `error` of a resource's Bearer (RFC 6750 §3) or DPoP (RFC 9449 §7.1) challenge from a WWW-Authenticate header, to tell an expired or revoked token from other 401s.

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;
const SPACE = /[ \t]*/y;

function match(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

/**
 * The `error` parameter of the first `Bearer` challenge (schemes compared case-insensitively,
 * RFC 9110 §11.1), or `undefined` when there is none or the header cannot be read.
 *
 * @example
 * bearerError('Bearer realm="api", error="invalid_token"'); // 'invalid_token'
 */
export function bearerError(header: string | null): string | undefined {
  return challengeError(header, 'bearer');
}

/**
 * The `error` parameter of the first challenge of `scheme` (lower case: `bearer`, `dpop`, RFC 9449 §7.1).
 *
 * @example
 * challengeError('DPoP algs="ES256", error="use_dpop_nonce"', 'dpop'); // 'use_dpop_nonce'
 */
export function challengeError(header: string | null, wanted: string): string | undefined {
  if (header === null) return undefined;
  let scheme: string | undefined;
  let i = 0;
  while (i < header.length) {
    // Separators between challenges and parameters (RFC 9110 §5.6.1: empty list elements allowed).
    while (i < header.length && /[ \t,]/.test(header[i]!)) i++;
    if (i >= header.length) break;
    const name = match(TOKEN, header, i);
    if (!name) {
      // Something else (a token68 such as `a/b+c`): skip to the next comma.
      const comma = header.indexOf(',', i);
      if (comma < 0) break;
      i = comma;
      continue;
    }
    let j = name.index + name[0].length;
    j += match(SPACE, header, j)![0].length;
    if (header[j] === '=') {
      j += 1 + match(SPACE, header, j + 1)![0].length;
      const quoted = match(QUOTED, header, j);
      const plain = quoted ? null : match(TOKEN, header, j);
      if (quoted || plain) {
        const value = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : plain![0];
        if (scheme === wanted && name[0].toLowerCase() === 'error') return value;
        i = j + (quoted ?? plain)![0].length;
        continue;
      }
      // A token68 ending in '=' (e.g. `Basic YWxhZGRpbg==`): skip to the next comma.
      const comma = header.indexOf(',', j);
      i = comma < 0 ? header.length : comma;
      continue;
    }
    scheme = name[0].toLowerCase();
    i = j;
  }
  return undefined;
}
