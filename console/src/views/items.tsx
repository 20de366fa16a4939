// Items: search as you type, filters, sort and pages, all kept in the URL.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok } from "../api";
import { can, session } from "../auth";
import { href, navigate } from "../router";
import { Alert, Status, useLoad } from "../util";

const filters = ["q", "tag", "groupId", "locationId", "lowStock", "sort"] as const;
type Sort = "sku" | "name" | "-updatedAt";

/** The filter options (tags, groups, locations), loaded once per view. */
export function useOptions() {
  return useLoad(async () => {
    const [tags, groups, locations] = await Promise.all([
      ok(api.GET("/tags", { params: { query: { limit: 100 } } })),
      ok(api.GET("/groups", { params: { query: { limit: 100 } } })),
      ok(api.GET("/locations", { params: { query: { limit: 100 } } })),
    ]);
    return { tags: tags.tags, groups: groups.groups, locations: locations.locations };
  }, []);
}

export function ItemsView({ query }: { query: URLSearchParams }) {
  const get = (k: string) => query.get(k) ?? "";
  const options = useOptions();
  const [q, setQ] = useState(get("q"));
  const key = query.toString();

  // Search as you type: the URL follows the box a moment after the last key,
  // and the box follows the URL when that changes otherwise (back, a link).
  const urlQ = get("q");
  const lastUrlQ = useRef(urlQ);
  useEffect(() => {
    if (urlQ !== lastUrlQ.current) {
      lastUrlQ.current = urlQ;
      setQ(urlQ);
    }
  }, [urlQ]);
  useEffect(() => {
    if (q === lastUrlQ.current) return;
    const t = setTimeout(() => set({ q }, true), 250);
    return () => clearTimeout(t);
  }, [q]);

  // A change of filters, from the URL as it is now (a timer's closure may
  // hold an older one), back to the first page.
  const set = (change: Record<string, string>, replace = false) => {
    const next = new URLSearchParams(location.hash.split("?")[1] ?? "");
    next.delete("cursor");
    for (const [k, v] of Object.entries(change)) v ? next.set(k, v) : next.delete(k);
    navigate("/items", next, replace);
  };

  const page = useLoad(
    () =>
      ok(
        api.GET("/items", {
          params: {
            query: {
              limit: 25,
              q: get("q") || undefined,
              tag: get("tag") || undefined,
              groupId: get("groupId") || undefined,
              locationId: get("locationId") || undefined,
              lowStock: get("lowStock") === "true" ? true : undefined,
              sort: (get("sort") || undefined) as Sort | undefined,
              cursor: get("cursor") || undefined,
            },
          },
        }),
      ),
    [key],
  );
  const o = options.data;
  const filtered = filters.some((f) => get(f));

  return (
    <section aria-labelledby="items-h">
      <div class="bar">
        <h1 id="items-h">Items</h1>
        {can(session(), "editor") && (
          <a class="button" href={href("/items/new")}>
            New item
          </a>
        )}
      </div>
      <form class="filters" role="search" onSubmit={(e) => (e.preventDefault(), set({ q }))}>
        <label>
          Search
          <input type="search" name="q" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="Name or SKU" />
        </label>
        <label>
          Tag
          <select name="tag" value={get("tag")} onChange={(e) => set({ tag: e.currentTarget.value })}>
            <option value="">Any</option>
            {o?.tags.map((t) => (
              <option value={t.tag}>
                {t.tag} ({t.count})
              </option>
            ))}
          </select>
        </label>
        <label>
          Group
          <select name="groupId" value={get("groupId")} onChange={(e) => set({ groupId: e.currentTarget.value })}>
            <option value="">Any</option>
            {o?.groups.map((g) => (
              <option value={g.id}>{g.name}</option>
            ))}
          </select>
        </label>
        <label>
          Location
          <select name="locationId" value={get("locationId")} onChange={(e) => set({ locationId: e.currentTarget.value, sort: "" })}>
            <option value="">Any</option>
            {o?.locations.map((l) => (
              <option value={l.id}>
                {l.code} — {l.name}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="lowStock"
            checked={get("lowStock") === "true"}
            onChange={(e) => set({ lowStock: e.currentTarget.checked ? "true" : "" })}
          />
          Low stock
        </label>
        <label>
          Sort
          <select
            name="sort"
            value={get("sort")}
            disabled={!!get("locationId")}
            onChange={(e) => set({ sort: e.currentTarget.value })}
          >
            <option value="">SKU</option>
            <option value="name">Name</option>
            <option value="-updatedAt">Recently changed</option>
          </select>
        </label>
        {filtered && (
          <a href={href("/items")} class="clear">
            Clear filters
          </a>
        )}
      </form>
      <Alert error={options.error ?? page.error} />
      {page.data && (
        <>
          <table>
            <caption class="sr-only">Items{filtered ? ", filtered" : ""}</caption>
            <thead>
              <tr>
                <th scope="col">Photo</th>
                <th scope="col">SKU</th>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  On hand
                </th>
                <th scope="col" class="num">
                  Available
                </th>
                <th scope="col">Tags</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((it) => {
                const thumb = it.image?.status === "ready" ? it.image.thumbnails?.[0]?.url : undefined;
                const low = it.reorderPoint != null && it.available < it.reorderPoint;
                return (
                  <tr>
                    <td>{thumb ? <img class="thumb" src={thumb} alt="" width={40} height={40} /> : <span class="nothumb" />}</td>
                    <td>
                      <a href={href(`/items/${it.id}`)}>{it.sku}</a>
                    </td>
                    <td>{it.name}</td>
                    <td class="num">{it.quantity}</td>
                    <td class="num">
                      {it.available}
                      {low && <span class="badge warn">low</span>}
                    </td>
                    <td>{it.tags.join(", ")}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {page.data.items.length === 0 && <Status>No items{filtered ? " match these filters" : " yet"}.</Status>}
          <nav class="pager" aria-label="Pages">
            {get("cursor") && (
              <button type="button" onClick={() => history.back()}>
                Previous page
              </button>
            )}
            {page.data.nextCursor && (
              <button type="button" onClick={() => navigate("/items", new URLSearchParams({ ...Object.fromEntries(query), cursor: page.data!.nextCursor! }))}>
                Next page
              </button>
            )}
          </nav>
        </>
      )}
      {page.loading && <Status>Loading…</Status>}
    </section>
  );
}
