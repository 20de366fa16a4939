// Export and import: an export is a button, a progress indicator, then a
// download; an import is a file, a dry run, its per-row results, then the
// real run (docs/csv.md, docs/exports.md).
import { useState } from "preact/hooks";
import { api, ok, postForm, type Schemas } from "../api";
import { can, session } from "../auth";
import { Alert, Status, useAction, when } from "../util";

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function DataView() {
  return (
    <>
      <h1>Export &amp; import</h1>
      <div class="cols">
        <Export />
        {can(session(), "editor") && <Import />}
      </div>
    </>
  );
}

function Export() {
  const [include, setInclude] = useState<("stock" | "groups")[]>(["stock"]);
  const [job, setJob] = useState<Schemas["Export"] | null>(null);
  const act = useAction();
  const toggle = (k: "stock" | "groups", on: boolean) => setInclude(on ? [...include, k] : include.filter((x) => x !== k));
  const start = () =>
    act.run(async () => {
      let j = await ok(api.POST("/exports", { body: { include, bom: false } }));
      setJob(j);
      while (j.status === "queued" || j.status === "running") {
        await sleep(400);
        j = await ok(api.GET("/exports/{id}", { params: { path: { id: j.id } } }));
        setJob(j);
      }
      if (j.status === "failed") throw new Error(`The export failed: ${j.error ?? "no reason given"}`);
    });
  const running = job && (job.status === "queued" || job.status === "running");
  return (
    <section class="card" aria-labelledby="export-h">
      <h2 id="export-h">Export items to CSV</h2>
      <fieldset>
        <legend>Extra columns</legend>
        <label class="check">
          <input type="checkbox" checked={include.includes("stock")} onChange={(e) => toggle("stock", e.currentTarget.checked)} />
          Stock per location
        </label>
        <label class="check">
          <input type="checkbox" checked={include.includes("groups")} onChange={(e) => toggle("groups", e.currentTarget.checked)} />
          Groups
        </label>
      </fieldset>
      <button type="button" onClick={start} disabled={act.busy}>
        Export CSV
      </button>
      {running && (
        <label>
          Exporting: {plural(job.rows, "row")} so far
          <progress />
        </label>
      )}
      {job?.status === "succeeded" && job.downloadUrl && (
        <p>
          <Status>
            Ready: {plural(job.rows, "row")}, {plural(job.bytes, "byte")}.
          </Status>
          <a class="button" href={job.downloadUrl} download data-testid="download">
            Download CSV
          </a>{" "}
          <span class="muted">(the link works until {when(job.downloadExpiresAt)})</span>
        </p>
      )}
      <Alert error={act.error} />
    </section>
  );
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). */
export function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field), rows.push(row), (row = []), (field = "");
    } else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

function Import() {
  const [file, setFile] = useState<File | null>(null);
  const [job, setJob] = useState<Schemas["Import"] | null>(null);
  const [results, setResults] = useState<string[][] | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const act = useAction();

  const run = (dryRun: boolean) =>
    file &&
    act.run(async () => {
      setResults(null);
      let j = await ok(api.POST("/imports", { body: { dryRun } }));
      setJob(j);
      setProgress(0);
      try {
        await postForm(j.upload!, file, setProgress);
      } finally {
        setProgress(null);
      }
      while (j.status === "awaiting_upload" || j.status === "running") {
        await sleep(400);
        j = await ok(api.GET("/imports/{id}", { params: { path: { id: j.id } } }));
        setJob(j);
      }
      if (j.status !== "succeeded") throw new Error(`The import ${j.status}: ${j.error ?? "no reason given"}`);
      if (j.resultsUrl) {
        const res = await fetch(j.resultsUrl);
        if (!res.ok) throw new Error(`The results could not be read (HTTP ${res.status}).`);
        setResults(parseCSV(await res.text()));
      }
      return dryRun ? "Dry run done: nothing changed. Read the results, then apply." : "Imported.";
    });

  const done = job?.status === "succeeded";
  return (
    <section class="card" aria-labelledby="import-h">
      <h2 id="import-h">Import items from CSV</h2>
      <label>
        CSV file
        <input type="file" name="file" accept=".csv,text/csv" onChange={(e) => (setFile(e.currentTarget.files?.[0] ?? null), setJob(null), setResults(null))} />
      </label>
      <button type="button" disabled={!file || act.busy} onClick={() => run(true)}>
        Dry run
      </button>{" "}
      <button type="button" disabled={!file || act.busy || !(done && job?.dryRun)} onClick={() => run(false)}>
        Apply import
      </button>
      {progress !== null && (
        <label>
          Uploading
          <progress max={1} value={progress} />
        </label>
      )}
      {job && (job.status === "running" || job.status === "awaiting_upload") && progress === null && (
        <label>
          Importing: {plural(job.rows, "row")} so far
          <progress />
        </label>
      )}
      {done && (
        <Status>
          {job.dryRun ? "Dry run" : "Import"}: {plural(job.rows, "row")} — {job.created} created, {job.updated} updated, {job.unchanged} unchanged,{" "}
          {job.failed} failed.
        </Status>
      )}
      <Alert error={act.error} />
      {act.done && <Status>{act.done}</Status>}
      {results && results.length > 1 && (
        <table data-testid="import-results">
          <caption>
            Per-row results{results.length > 201 ? `, the first 200 of ${results.length - 1}` : ""}
            {job?.resultsUrl && (
              <>
                {" "}
                (<a href={job.resultsUrl}>the results as CSV</a>)
              </>
            )}
          </caption>
          <thead>
            <tr>
              {results[0].map((h) => (
                <th scope="col">{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {results.slice(1, 201).map((r) => (
              <tr class={r[2] === "failed" ? "failed" : undefined}>
                {r.map((c) => (
                  <td>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
