// A group as the core sees it: a named set of scopes and audiences that every member client inherits.

/**
 * A stored group. A client may ask for its own scopes plus those of all its groups, so changing a
 * group changes what every member may get from its next token request on. Times are epoch ms.
 */
export interface Group {
  name: string;
  scopes: string[];
  /** Audiences (RFC 8707 resource indicators) members may request. */
  audiences: string[];
  /** Ids of the member clients, sorted. */
  members: string[];
  /**
   * Moves with every change to the group: its scopes, its audiences, its members. The admin API's
   * ETag, for If-Match (RFC 9110 §13.1.1).
   */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * Group names are identifiers that appear in URLs and shell commands: a letter or digit, then up to
 * 63 letters, digits, `.`, `_`, `:` or `-`.
 */
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Whether `value` is a valid group name. */
export function isGroupName(value: unknown): value is string {
  return typeof value === 'string' && GROUP_NAME.test(value);
}
