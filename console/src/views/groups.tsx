// Groups: the list, create, and one group's members, name and deletion.
import { useEffect, useState } from "preact/hooks";
import { api, etag, ok } from "../api";
import { can, session } from "../auth";
import { href, navigate } from "../router";
import { Alert, DeleteButton, Status, useAction, useLoad } from "../util";

export function GroupsView() {
  const list = useLoad(() => ok(api.GET("/groups", { params: { query: { limit: 100 } } })), []);
  const editor = can(session(), "editor");
  const [name, setName] = useState("");
  const act = useAction();
  return (
    <section aria-labelledby="groups-h">
      <h1 id="groups-h">Groups</h1>
      <Alert error={list.error ?? act.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Description</th>
            <th scope="col" class="num">Items</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.groups.map((g) => (
            <tr>
              <td>
                <a href={href(`/groups/${g.id}`)}>{g.name}</a>
              </td>
              <td>{g.description}</td>
              <td class="num">{g.memberCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data?.groups.length === 0 && <Status>No groups yet.</Status>}
      {editor && (
        <form
          class="card inline"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              await ok(api.POST("/groups", { body: { name, description: null } }));
              setName("");
              list.reload();
              return "Group created.";
            });
          }}
        >
          <label>
            New group
            <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={act.busy}>
            Create group
          </button>
        </form>
      )}
      {act.done && <Status>{act.done}</Status>}
    </section>
  );
}

export function GroupView({ id }: { id: string }) {
  const group = useLoad(() => ok(api.GET("/groups/{id}", { params: { path: { id } } })), [id]);
  const members = useLoad(() => ok(api.GET("/groups/{id}/items", { params: { path: { id }, query: { limit: 100 } } })), [id, group.data?.version]);
  const editor = can(session(), "editor");
  const [f, setF] = useState({ name: "", description: "" });
  const act = useAction();
  const g = group.data;
  useEffect(() => g && setF({ name: g.name, description: g.description }), [g?.version]);
  if (group.error) return <Alert error={group.error} />;
  if (!g) return <Status>Loading…</Status>;
  return (
    <section aria-labelledby="group-h">
      <div class="bar">
        <h1 id="group-h">{g.name}</h1>
        <a href={href("/items", { groupId: g.id })}>Filter items by this group</a>
      </div>
      {editor && (
        <form
          class="card inline"
          aria-label="Edit group"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              await ok(
                api.PATCH("/groups/{id}", {
                  params: { path: { id }, header: { "If-Match": etag(g.version) } },
                  headers: { "Content-Type": "application/merge-patch+json" },
                  body: { name: f.name, description: f.description },
                }),
              );
              group.reload();
              return "Saved.";
            });
          }}
        >
          <label>
            Name
            <input name="name" required value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
          </label>
          <label>
            Description
            <input name="description" value={f.description} onInput={(e) => setF({ ...f, description: e.currentTarget.value })} />
          </label>
          <button type="submit" disabled={act.busy}>
            Save group
          </button>
        </form>
      )}
      {editor && (
        <DeleteButton
          label="Delete group"
          title={`Delete the group ${g.name}?`}
          note="Its items stay; only the group goes, and it can be restored."
          onDelete={async (comment) => {
            await ok(api.DELETE("/groups/{id}", { params: { path: { id } }, body: { comment } }));
            navigate("/groups");
          }}
        />
      )}
      <Alert error={act.error ?? members.error} />
      {act.done && <Status>{act.done}</Status>}
      <h2>{g.memberCount} items</h2>
      <ul>
        {members.data?.items.map((it) => (
          <li>
            <a href={href(`/items/${it.id}`)}>
              {it.sku} · {it.name}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
