// One item: its fields (edited in place, with If-Match), photo, stock per
// location with the adjust, count and transfer forms, groups, activity and
// ledger.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, etag, type Item, type Location, ok, postForm, type Schemas } from "../api";
import { can, session } from "../auth";
import { href, navigate } from "../router";
import { Alert, DeleteButton, Status, useAction, useLoad, when } from "../util";

type Fields = { sku: string; name: string; description: string; tags: string; reorderPoint: string };
const labels: Record<keyof Fields, string> = {
  sku: "SKU",
  name: "Name",
  description: "Description",
  tags: "Tags (comma separated)",
  reorderPoint: "Reorder point",
};

function fieldsOf(it: Item): Fields {
  return {
    sku: it.sku,
    name: it.name,
    description: it.description,
    tags: it.tags.join(", "),
    reorderPoint: it.reorderPoint == null ? "" : String(it.reorderPoint),
  };
}

/** The merge patch of the fields that differ from the item's. */
function patchOf(f: Fields, it: Item): Schemas["PatchItem"] {
  const base = fieldsOf(it);
  const p: Schemas["PatchItem"] = {};
  if (f.sku !== base.sku) p.sku = f.sku.trim();
  if (f.name !== base.name) p.name = f.name;
  if (f.description !== base.description) p.description = f.description;
  if (f.tags !== base.tags) p.tags = splitTags(f.tags);
  if (f.reorderPoint !== base.reorderPoint) p.reorderPoint = f.reorderPoint.trim() === "" ? null : Number(f.reorderPoint);
  return p;
}

const splitTags = (s: string) => s.split(",").map((t) => t.trim()).filter(Boolean);

export function ItemView({ id }: { id: string }) {
  const item = useLoad(() => ok(api.GET("/items/{id}", { params: { path: { id } } })), [id]);
  const locations = useLoad(() => ok(api.GET("/locations", { params: { query: { limit: 100 } } })).then((p) => p.locations), []);
  const [version, setVersion] = useState(0); // bumps when the stock or the trail changes
  const it = item.data;
  const editor = can(session(), "editor");
  const changed = () => {
    item.reload();
    setVersion((v) => v + 1);
  };

  if (item.error) return <Alert error={item.error} />;
  if (!it) return <Status>Loading…</Status>;
  return (
    <article aria-labelledby="item-h">
      <div class="bar">
        <h1 id="item-h">
          {it.sku} · {it.name}
        </h1>
        <a href={href("/items")}>Back to items</a>
      </div>
      <p class="meta">
        Created {when(it.createdAt)} by {it.createdBy}; changed {when(it.updatedAt)} by {it.updatedBy}; version {it.version}.
      </p>
      <div class="cols">
        <ItemFields it={it} editor={editor} onSaved={changed} />
        <Photo it={it} editor={editor} onChange={item.reload} />
      </div>
      <Stock it={it} locations={locations.data ?? []} editor={editor} version={version} onChange={changed} />
      <ItemGroups it={it} editor={editor} onChange={changed} />
      <Trail id={it.id} locations={locations.data ?? []} version={version} />
      {editor && (
        <DeleteButton
          label="Delete item"
          title={`Delete ${it.sku}?`}
          note="It goes to the trash, where it can be restored."
          onDelete={async (comment) => {
            await ok(api.DELETE("/items/{id}", { params: { path: { id: it.id } }, body: { comment } }));
            navigate("/trash");
          }}
        />
      )}
    </article>
  );
}

function ItemFields({ it, editor, onSaved }: { it: Item; editor: boolean; onSaved: () => void }) {
  const [f, setF] = useState(fieldsOf(it));
  // The version the form was filled from: the If-Match of a save.
  const [base, setBase] = useState(it);
  const [conflict, setConflict] = useState<Item | null>(null);
  const act = useAction();

  // A newer version (a save, a photo, a stock change) refills the fields
  // left alone and keeps those being edited. If one of those changed too,
  // the form stays on its version: saving then answers 412 and shows both.
  useEffect(() => {
    if (it.version === base.version) return;
    const was = fieldsOf(base);
    const now = fieldsOf(it);
    const edited = (Object.keys(was) as (keyof Fields)[]).filter((k) => f[k] !== was[k]);
    if (edited.some((k) => now[k] !== was[k])) return;
    setF({ ...now, ...Object.fromEntries(edited.map((k) => [k, f[k]])) });
    setBase(it);
  }, [it.version]);

  const save = (base: Item) =>
    act.run(async () => {
      const patch = patchOf(f, base);
      if (Object.keys(patch).length === 0) return "Nothing to save.";
      const { data, response, error } = await api.PATCH("/items/{id}", {
        params: { path: { id: it.id }, header: { "If-Match": etag(base.version) } },
        headers: { "Content-Type": "application/merge-patch+json" },
        body: patch,
      });
      if (response.status === 412) {
        // Someone changed it since it was read: show both, overwrite nothing.
        setConflict(await ok(api.GET("/items/{id}", { params: { path: { id: it.id } } })));
        return;
      }
      if (!response.ok || !data) throw new ApiError(response.status, error ?? {});
      setConflict(null);
      setBase(data);
      setF(fieldsOf(data));
      onSaved();
      return "Saved.";
    });

  const mine = conflict ? patchOf(f, base) : {};
  return (
    <form class="card" aria-labelledby="fields-h" onSubmit={(e) => (e.preventDefault(), save(base))}>
      <h2 id="fields-h">Details</h2>
      {(Object.keys(labels) as (keyof Fields)[]).map((k) => (
        <label>
          {labels[k]}
          {k === "description" ? (
            <textarea name={k} value={f[k]} readOnly={!editor} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} />
          ) : (
            <input
              name={k}
              value={f[k]}
              readOnly={!editor}
              inputMode={k === "reorderPoint" ? "numeric" : undefined}
              onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })}
            />
          )}
        </label>
      ))}
      {conflict && (
        <div class="conflict" role="alert">
          <h3>Changed by {conflict.updatedBy} at {when(conflict.updatedAt)} while you edited</h3>
          <p>Nothing was saved. Your values and the current ones:</p>
          <table>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Yours</th>
                <th scope="col">Current</th>
              </tr>
            </thead>
            <tbody>
              {(Object.keys(mine) as (keyof Fields)[]).map((k) => (
                <tr>
                  <th scope="row">{labels[k]}</th>
                  <td>{f[k]}</td>
                  <td>{fieldsOf(conflict)[k]}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => save(conflict)} disabled={act.busy}>
            Save mine over the current values
          </button>{" "}
          <button type="button" onClick={() => (setConflict(null), setBase(conflict), setF(fieldsOf(conflict)), onSaved())}>
            Keep the current values
          </button>
        </div>
      )}
      <Alert error={act.error} />
      {act.done && <Status>{act.done}</Status>}
      {editor && (
        <button type="submit" disabled={act.busy}>
          Save details
        </button>
      )}
    </form>
  );
}

const imageTypes = ["image/jpeg", "image/png", "image/webp", "image/gif"] as const;

function Photo({ it, editor, onChange }: { it: Item; editor: boolean; onChange: () => void }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [drag, setDrag] = useState(false);
  const act = useAction();
  const input = useRef<HTMLInputElement>(null);
  const img = it.image;

  // While the thumbnails are being made, look again every second: the
  // picture appears without a reload.
  useEffect(() => {
    if (img?.status !== "pending" || progress !== null) return;
    const t = setInterval(onChange, 1000);
    return () => clearInterval(t);
  }, [img?.status, img?.uploadId, progress]);

  const upload = (file?: File) =>
    file &&
    act.run(async () => {
      const type = imageTypes.find((t) => t === file.type);
      if (!type) throw new Error(`${file.name} is not a JPEG, PNG, WebP or GIF image (${file.type || "unknown type"}).`);
      const form = await ok(
        api.POST("/items/{id}/image-uploads", { params: { path: { id: it.id } }, body: { contentType: type } }),
      );
      if (file.size > form.maxBytes) throw new Error(`${file.name} is larger than ${form.maxBytes} bytes.`);
      setProgress(0);
      try {
        await postForm(form, file, setProgress);
      } finally {
        setProgress(null);
        onChange();
      }
    });

  const big = img?.thumbnails?.find((t) => t.size === 640) ?? img?.thumbnails?.[0];
  return (
    <section class="card" aria-labelledby="photo-h">
      <h2 id="photo-h">Photo</h2>
      {img?.status === "ready" && big && (
        <img class="photo" src={big.url} alt={`Photo of ${it.name}`} width={big.width} height={big.height} data-testid="thumbnail" />
      )}
      {img?.status === "pending" && progress === null && <Status>Making the thumbnails…</Status>}
      {img?.status === "failed" && <Alert error={`The photo was refused: ${img.reason ?? "unknown reason"}.`} />}
      {img?.status === "expired" && <Status>The last upload never arrived; upload the photo again.</Status>}
      {!img && <p class="muted">No photo yet.</p>}
      {editor && (
        <div
          class={`drop${drag ? " over" : ""}`}
          onDragOver={(e) => (e.preventDefault(), setDrag(true))}
          onDragLeave={() => setDrag(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDrag(false);
            void upload(e.dataTransfer?.files[0]);
          }}
        >
          <p>Drop a photo here, or</p>
          <label class="button">
            Choose a photo
            <input
              ref={input}
              class="sr-only"
              type="file"
              accept={imageTypes.join(",")}
              onChange={(e) => void upload(e.currentTarget.files?.[0])}
            />
          </label>
        </div>
      )}
      {progress !== null && (
        <label>
          Uploading
          <progress max={1} value={progress}>
            {Math.round(progress * 100)}%
          </progress>
        </label>
      )}
      <Alert error={act.error} />
    </section>
  );
}

const locName = (ls: Location[], id: string) => {
  const l = ls.find((x) => x.id === id);
  return l ? `${l.code} — ${l.name}` : id;
};

function LocationSelect({ name, label, locations, value, onChange }: {
  name: string;
  label: string;
  locations: Location[];
  value: string;
  onChange: (v: string) => void;
}) {
  return (
    <label>
      {label}
      <select name={name} value={value} required onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">Choose…</option>
        {locations.map((l) => (
          <option value={l.id}>{locName(locations, l.id)}</option>
        ))}
      </select>
    </label>
  );
}

const reasons = ["received", "correction", "damaged", "shrinkage", "returned", "cycle_count", "other"] as const;

function Stock({ it, locations, editor, version, onChange }: {
  it: Item;
  locations: Location[];
  editor: boolean;
  version: number;
  onChange: () => void;
}) {
  const stock = useLoad(() => ok(api.GET("/items/{id}/stock", { params: { path: { id: it.id } } })), [it.id, it.version, version]);
  const [adj, setAdj] = useState({ locationId: "", delta: "", reason: "received", reference: "" });
  const [cnt, setCnt] = useState({ locationId: "", counted: "" });
  const [tr, setTr] = useState({ from: "", to: "", quantity: "", note: "" });
  const act = useAction();
  const s = stock.data;

  return (
    <section class="card" aria-labelledby="stock-h">
      <h2 id="stock-h">Stock</h2>
      <Alert error={stock.error} />
      {s && (
        <table data-testid="stock">
          <thead>
            <tr>
              <th scope="col">Location</th>
              <th scope="col" class="num">On hand</th>
              <th scope="col" class="num">Committed</th>
              <th scope="col" class="num">Available</th>
              <th scope="col" class="num">Incoming</th>
            </tr>
          </thead>
          <tbody>
            {s.levels.map((l) => (
              <tr>
                <th scope="row">{locName(locations, l.locationId)}</th>
                <td class="num">{l.onHand}</td>
                <td class="num">{l.committed}</td>
                <td class="num">{l.available}</td>
                <td class="num">{l.incoming}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              <td class="num">{s.totals.onHand}</td>
              <td class="num">{s.totals.committed}</td>
              <td class="num">{s.totals.available}</td>
              <td class="num">{s.totals.incoming}</td>
            </tr>
          </tfoot>
        </table>
      )}
      {editor && (
        <div class="forms">
          <form
            aria-label="Adjust stock"
            onSubmit={(e) => {
              e.preventDefault();
              void act.run(async () => {
                await ok(
                  api.POST("/adjustments", {
                    body: {
                      reason: adj.reason as (typeof reasons)[number],
                      reference: adj.reference.trim() || null,
                      lines: [{ itemId: it.id, locationId: adj.locationId, delta: Number(adj.delta) }],
                    },
                  }),
                );
                setAdj({ ...adj, delta: "", reference: "" });
                onChange();
                return "Adjusted.";
              });
            }}
          >
            <h3>Adjust</h3>
            <LocationSelect name="locationId" label="Location" locations={locations} value={adj.locationId} onChange={(v) => setAdj({ ...adj, locationId: v })} />
            <label>
              Change (negative to take away)
              <input name="delta" type="number" step={1} required value={adj.delta} onInput={(e) => setAdj({ ...adj, delta: e.currentTarget.value })} />
            </label>
            <label>
              Reason
              <select name="reason" value={adj.reason} onChange={(e) => setAdj({ ...adj, reason: e.currentTarget.value })}>
                {reasons.map((r) => (
                  <option value={r}>{r.replace("_", " ")}</option>
                ))}
              </select>
            </label>
            <label>
              Reference
              <input name="reference" value={adj.reference} onInput={(e) => setAdj({ ...adj, reference: e.currentTarget.value })} />
            </label>
            <button type="submit" disabled={act.busy}>
              Adjust stock
            </button>
          </form>
          <form
            aria-label="Count stock"
            onSubmit={(e) => {
              e.preventDefault();
              void act.run(async () => {
                const expected = s?.levels.find((l) => l.locationId === cnt.locationId)?.onHand ?? 0;
                await ok(
                  api.POST("/counts", {
                    body: { itemId: it.id, locationId: cnt.locationId, counted: Number(cnt.counted), expected },
                  }),
                );
                setCnt({ ...cnt, counted: "" });
                onChange();
                return "Counted.";
              });
            }}
          >
            <h3>Count</h3>
            <LocationSelect name="locationId" label="Location" locations={locations} value={cnt.locationId} onChange={(v) => setCnt({ ...cnt, locationId: v })} />
            <label>
              Counted
              <input name="counted" type="number" min={0} step={1} required value={cnt.counted} onInput={(e) => setCnt({ ...cnt, counted: e.currentTarget.value })} />
            </label>
            <button type="submit" disabled={act.busy}>
              Record count
            </button>
          </form>
          <form
            aria-label="Transfer stock"
            onSubmit={(e) => {
              e.preventDefault();
              void act.run(async () => {
                await ok(
                  api.POST("/transfers", {
                    body: {
                      itemId: it.id,
                      fromLocationId: tr.from,
                      toLocationId: tr.to,
                      quantity: Number(tr.quantity),
                      note: tr.note.trim() || null,
                    },
                  }),
                );
                setTr({ ...tr, quantity: "", note: "" });
                onChange();
                return "Transferred.";
              });
            }}
          >
            <h3>Transfer</h3>
            <LocationSelect name="fromLocationId" label="From" locations={locations} value={tr.from} onChange={(v) => setTr({ ...tr, from: v })} />
            <LocationSelect name="toLocationId" label="To" locations={locations} value={tr.to} onChange={(v) => setTr({ ...tr, to: v })} />
            <label>
              Quantity
              <input name="quantity" type="number" min={1} step={1} required value={tr.quantity} onInput={(e) => setTr({ ...tr, quantity: e.currentTarget.value })} />
            </label>
            <label>
              Note
              <input name="note" value={tr.note} onInput={(e) => setTr({ ...tr, note: e.currentTarget.value })} />
            </label>
            <button type="submit" disabled={act.busy}>
              Transfer stock
            </button>
          </form>
        </div>
      )}
      <Alert error={act.error} />
      {act.done && <Status>{act.done}</Status>}
    </section>
  );
}

function ItemGroups({ it, editor, onChange }: { it: Item; editor: boolean; onChange: () => void }) {
  const groups = useLoad(() => ok(api.GET("/groups", { params: { query: { limit: 100 } } })).then((p) => p.groups), [it.version]);
  const [pick, setPick] = useState("");
  const act = useAction();
  const mine = it.groups ?? [];
  return (
    <section class="card" aria-labelledby="groups-h">
      <h2 id="groups-h">Groups and tags</h2>
      <p>
        Tags: {it.tags.length ? it.tags.map((t) => <a class="chip" href={href("/items", { tag: t })}>{t}</a>) : <span class="muted">none</span>}
      </p>
      <ul class="chips" aria-label="Groups of this item">
        {mine.map((g) => (
          <li>
            <a href={href(`/groups/${g.id}`)}>{g.name}</a>
            {editor && (
              <button
                type="button"
                class="link"
                aria-label={`Remove from ${g.name}`}
                onClick={() =>
                  act.run(async () => {
                    await ok(api.DELETE("/groups/{id}/items/{itemId}", { params: { path: { id: g.id, itemId: it.id } } }));
                    onChange();
                  })
                }
              >
                ×
              </button>
            )}
          </li>
        ))}
        {mine.length === 0 && <li class="muted">In no group.</li>}
      </ul>
      {editor && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              await ok(api.PUT("/groups/{id}/items/{itemId}", { params: { path: { id: pick, itemId: it.id } } }));
              setPick("");
              onChange();
              return "Added to the group.";
            });
          }}
        >
          <label>
            Add to group
            <select name="groupId" value={pick} required onChange={(e) => setPick(e.currentTarget.value)}>
              <option value="">Choose…</option>
              {groups.data
                ?.filter((g) => !mine.some((m) => m.id === g.id))
                .map((g) => (
                  <option value={g.id}>{g.name}</option>
                ))}
            </select>
          </label>
          <button type="submit" disabled={act.busy || !pick}>
            Add
          </button>
        </form>
      )}
      <Alert error={act.error} />
      {act.done && <Status>{act.done}</Status>}
    </section>
  );
}

function Trail({ id, locations, version }: { id: string; locations: Location[]; version: number }) {
  const activity = useLoad(() => ok(api.GET("/items/{id}/activity", { params: { path: { id }, query: { limit: 20 } } })), [id, version]);
  const ledger = useLoad(() => ok(api.GET("/items/{id}/history", { params: { path: { id }, query: { limit: 20 } } })), [id, version]);
  return (
    <>
      <section class="card" aria-labelledby="activity-h">
        <h2 id="activity-h">Activity</h2>
        <Alert error={activity.error} />
        <ol class="trail">
          {activity.data?.entries.map((a) => (
            <li>
              <strong>{a.type.replace("_", " ")}</strong> by {a.actor}, {when(a.at)}
              {a.changes?.map((c) => (
                <div class="muted">
                  {c.field}: {JSON.stringify(c.from)} → {JSON.stringify(c.to)}
                </div>
              ))}
              {a.comment && <div class="muted">“{a.comment}”</div>}
              {a.type === "image_failed" && a.reason && <div class="muted">{a.reason}</div>}
              {a.delta != null && (
                <div class="muted">
                  {a.delta > 0 ? "+" : ""}
                  {a.delta} at {locName(locations, a.locationId ?? "")} ({a.reason})
                </div>
              )}
            </li>
          ))}
        </ol>
      </section>
      <section class="card" aria-labelledby="ledger-h">
        <h2 id="ledger-h">Stock ledger</h2>
        <Alert error={ledger.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Location</th>
              <th scope="col" class="num">Change</th>
              <th scope="col" class="num">On hand after</th>
              <th scope="col">Reason</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {ledger.data?.entries.map((l) => (
              <tr>
                <td>{when(l.at)}</td>
                <td>{locName(locations, l.locationId)}</td>
                <td class="num">{l.delta > 0 ? `+${l.delta}` : l.delta}</td>
                <td class="num">{l.onHandAfter}</td>
                <td>
                  {l.reason}
                  {l.reference ? ` (${l.reference})` : ""}
                </td>
                <td>{l.actor}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

export function NewItemView() {
  const [f, setF] = useState({ sku: "", name: "", description: "", quantity: "0", tags: "", reorderPoint: "", locationId: "" });
  const locations = useLoad(() => ok(api.GET("/locations", { params: { query: { limit: 100 } } })).then((p) => p.locations), []);
  const act = useAction();
  const input = (k: keyof typeof f, label: string, extra: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input name={k} value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} {...extra} />
    </label>
  );
  if (!can(session(), "editor")) return <Alert error="Not allowed: only an editor or admin creates items." />;
  return (
    <form
      class="card narrow"
      aria-labelledby="new-h"
      onSubmit={(e) => {
        e.preventDefault();
        void act.run(async () => {
          const it = await ok(
            api.POST("/items", {
              body: {
                sku: f.sku.trim(),
                name: f.name,
                description: f.description || null,
                quantity: Number(f.quantity || 0),
                tags: splitTags(f.tags),
                reorderPoint: f.reorderPoint.trim() ? Number(f.reorderPoint) : null,
                locationId: f.locationId || null,
              },
            }),
          );
          navigate(`/items/${it.id}`);
        });
      }}
    >
      <h1 id="new-h">New item</h1>
      {input("sku", "SKU", { required: true })}
      {input("name", "Name", { required: true })}
      <label>
        Description
        <textarea name="description" value={f.description} onInput={(e) => setF({ ...f, description: e.currentTarget.value })} />
      </label>
      {input("quantity", "Opening stock", { type: "number", min: 0, step: 1 })}
      <label>
        At location
        <select name="locationId" value={f.locationId} onChange={(e) => setF({ ...f, locationId: e.currentTarget.value })}>
          <option value="">Default</option>
          {locations.data?.map((l) => (
            <option value={l.id}>{locName(locations.data!, l.id)}</option>
          ))}
        </select>
      </label>
      {input("tags", "Tags (comma separated)")}
      {input("reorderPoint", "Reorder point", { type: "number", min: 0, step: 1 })}
      <Alert error={act.error} />
      <button type="submit" disabled={act.busy}>
        Create item
      </button>
    </form>
  );
}
