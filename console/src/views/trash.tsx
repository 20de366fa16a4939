// Trash: deleted items with who, when and why; restore.
import { api, ok } from "../api";
import { can, session } from "../auth";
import { navigate } from "../router";
import { Alert, Status, useAction, useLoad, when } from "../util";

export function TrashView({ query }: { query: URLSearchParams }) {
  const cursor = query.get("cursor") ?? undefined;
  const page = useLoad(() => ok(api.GET("/deleted-items", { params: { query: { limit: 25, cursor } } })), [cursor]);
  const act = useAction();
  const editor = can(session(), "editor");
  return (
    <section aria-labelledby="trash-h">
      <h1 id="trash-h">Trash</h1>
      <Alert error={page.error ?? act.error} />
      {act.done && <Status>{act.done}</Status>}
      {page.data && (
        <table>
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Name</th>
              <th scope="col">Deleted by</th>
              <th scope="col">When</th>
              <th scope="col">Why</th>
              {editor && <th scope="col"><span class="sr-only">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((it) => (
              <tr>
                <td>{it.sku}</td>
                <td>{it.name}</td>
                <td>{it.deleted?.by}</td>
                <td>{when(it.deleted?.at)}</td>
                <td>{it.deleted?.comment}</td>
                {editor && (
                  <td>
                    <button
                      type="button"
                      aria-label={`Restore ${it.sku}`}
                      disabled={act.busy}
                      onClick={() =>
                        act.run(async () => {
                          await ok(api.POST("/items/{id}/restore", { params: { path: { id: it.id } } }));
                          page.reload();
                          return `Restored ${it.sku}.`;
                        })
                      }
                    >
                      Restore
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.data?.items.length === 0 && <Status>The trash is empty.</Status>}
      <nav class="pager" aria-label="Pages">
        {cursor && (
          <button type="button" onClick={() => history.back()}>
            Previous page
          </button>
        )}
        {page.data?.nextCursor && (
          <button type="button" onClick={() => navigate("/trash", { cursor: page.data!.nextCursor })}>
            Next page
          </button>
        )}
      </nav>
    </section>
  );
}
