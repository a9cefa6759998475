// The page's address as the place for state a link should carry (the launch form's settings, the
// runs table's filters). Each owner reads and replaces only its own query parameters and leaves the
// others (e.g. ?debug=stats, ?renderer=svg) as they are. replaceState: no history entry per keystroke.

export const queryParams = () => new URLSearchParams(location.search);

// Set the parameters in `values` (a Map or object: name → text; "" or null removes it) and remove
// every other parameter of `owned` (the names this owner may write).
export function replaceParams(owned, values) {
  const params = queryParams();
  const given = values instanceof Map ? values : new Map(Object.entries(values));
  for (const name of owned) if (!given.has(name)) params.delete(name);
  for (const [name, value] of given) {
    if (value === null || value === undefined || value === "") params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, "", url);
}
