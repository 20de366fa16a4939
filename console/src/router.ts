// Hash routes (#/items?q=bolt&tag=blue): the whole state of a view is in the
// URL, so it can be bookmarked and shared, and the server serves one page,
// index.html at /, which no API route can clash with.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  path: string;
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const raw = location.hash.replace(/^#/, "") || "/items";
  const [path, qs = ""] = raw.split("?", 2);
  return { path, parts: path.split("/").filter(Boolean), query: new URLSearchParams(qs) };
}

export function href(path: string, query?: Record<string, string | undefined | null> | URLSearchParams): string {
  const q = new URLSearchParams();
  if (query instanceof URLSearchParams) query.forEach((v, k) => q.set(k, v));
  else for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? "?" + s : ""}`;
}

/** Goes to a route; replace keeps the history entry (typing in a search box). */
export function navigate(path: string, query?: Record<string, string | undefined | null> | URLSearchParams, replace = false) {
  const to = href(path, query);
  if (replace) {
    history.replaceState(null, "", to);
    dispatchEvent(new HashChangeEvent("hashchange"));
  } else location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const on = () => setRoute(current());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
