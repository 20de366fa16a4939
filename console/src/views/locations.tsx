// Locations: the list, and (admins) create, rename and delete.
import { useState } from "preact/hooks";
import { api, etag, type Location, ok } from "../api";
import { can, session } from "../auth";
import { href } from "../router";
import { Alert, DeleteButton, Status, useAction, useLoad } from "../util";

export function LocationsView() {
  const list = useLoad(() => ok(api.GET("/locations", { params: { query: { limit: 100 } } })), []);
  const admin = can(session(), "admin");
  const [f, setF] = useState({ code: "", name: "", address: "" });
  const act = useAction();
  return (
    <section aria-labelledby="loc-h">
      <h1 id="loc-h">Locations</h1>
      <Alert error={list.error ?? act.error} />
      {act.done && <Status>{act.done}</Status>}
      <table>
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Name</th>
            <th scope="col">Address</th>
            <th scope="col">Stock</th>
            {admin && <th scope="col"><span class="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {list.data?.locations.map((l) => (
            <LocationRow l={l} admin={admin} onChange={list.reload} />
          ))}
        </tbody>
      </table>
      {admin && (
        <form
          class="card inline"
          aria-labelledby="newloc-h"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              await ok(api.POST("/locations", { body: { code: f.code.trim(), name: f.name, address: f.address.trim() || null } }));
              setF({ code: "", name: "", address: "" });
              list.reload();
              return "Location created.";
            });
          }}
        >
          <h2 id="newloc-h">New location</h2>
          <label>
            Code
            <input name="code" required value={f.code} onInput={(e) => setF({ ...f, code: e.currentTarget.value.toUpperCase() })} />
          </label>
          <label>
            Name
            <input name="name" required value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
          </label>
          <label>
            Address
            <input name="address" value={f.address} onInput={(e) => setF({ ...f, address: e.currentTarget.value })} />
          </label>
          <button type="submit" disabled={act.busy}>
            Create location
          </button>
        </form>
      )}
    </section>
  );
}

function LocationRow({ l, admin, onChange }: { l: Location; admin: boolean; onChange: () => void }) {
  const [name, setName] = useState(l.name);
  const act = useAction();
  return (
    <tr>
      <td>{l.code}</td>
      <td>
        {admin ? (
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void act.run(async () => {
                await ok(
                  api.PATCH("/locations/{id}", {
                    params: { path: { id: l.id }, header: { "If-Match": etag(l.version) } },
                    headers: { "Content-Type": "application/merge-patch+json" },
                    body: { name },
                  }),
                );
                onChange();
              });
            }}
          >
            <input aria-label={`Name of ${l.code}`} value={name} onInput={(e) => setName(e.currentTarget.value)} />
            <button type="submit" disabled={act.busy || name === l.name}>
              Rename
            </button>
          </form>
        ) : (
          l.name
        )}
        <Alert error={act.error} />
      </td>
      <td>{l.address}</td>
      <td>
        <a href={href("/items", { locationId: l.id })}>Items here</a>
      </td>
      {admin && (
        <td>
          {l.id !== "default" && (
            <DeleteButton
              label={`Delete ${l.code}`}
              title={`Delete the location ${l.code}?`}
              note="Only a location that holds no stock can be deleted; an admin can restore it."
              onDelete={async (comment) => {
                await ok(api.DELETE("/locations/{id}", { params: { path: { id: l.id } }, body: { comment } }));
                onChange();
              }}
            />
          )}
        </td>
      )}
    </tr>
  );
}
