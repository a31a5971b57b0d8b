// How Express's default routing (case-insensitive, not strict) compares paths, for the checks that run before any route: the token router's pass-through, early refusals and endpoint metrics.

/** `/A/b/?q` → `/a/b`: the form in which Express's default routing (case-insensitive, not strict) compares paths. */
export function routingForm(url: string): string {
  const query = url.indexOf('?');
  let pathname = (query < 0 ? url : url.slice(0, query)).toLowerCase();
  if (pathname.length > 1 && pathname.endsWith('/')) pathname = pathname.slice(0, -1);
  return pathname;
}
