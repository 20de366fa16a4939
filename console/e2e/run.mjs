// End-to-end tests of the console in a real Chromium (Debian's package,
// driven by playwright-core; no browser download), against a live make run:
// bin/depot-local on a free loopback port with a fresh state directory.
// Each step is one flow of issue 12; the main screens are saved as
// screenshots, and axe-core checks each of them (0 serious or critical
// violations). Run by make e2e:
//   node e2e/run.mjs [--local ../bin/depot-local] [--out e2e/out]
import { spawn } from "node:child_process";
import { strict as assert } from "node:assert";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync, crc32 } from "node:zlib";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a, i, all) => (a.startsWith("--") ? [a.slice(2), all[i + 1]] : [])).filter((x) => x.length));
const local = resolve(args.local ?? join(here, "../../bin/depot-local"));
const out = resolve(args.out ?? join(here, "out"));
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const started = Date.now();

/** RFC 4180, as the console's own parser (src/views/data.tsx). */
function parseCSV(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
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

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

/** A real PNG (w x h, RGB, a gradient), made here: no fixture file. */
function png(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    for (let x = 0; x < w; x++) {
      raw[row + 1 + x * 3] = (x * 255) / w;
      raw[row + 2 + x * 3] = (y * 255) / h;
      raw[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

// ---- make run: depot-local, fresh, on a free port
const port = await freePort();
const state = mkdtempSync(join(tmpdir(), "depot-e2e-"));
const base = `http://127.0.0.1:${port}`;
const server = spawn(local, ["-fresh"], {
  env: { ...process.env, PORT: String(port), DEPOT_STATE_DIR: state, LOG_LEVEL: "INFO" },
  stdio: ["ignore", "ignore", "pipe"],
});
let serverLog = "";
await new Promise((ok, fail) => {
  const timer = setTimeout(() => fail(new Error(`depot-local: no banner in 60 s:\n${serverLog}`)), 60_000);
  server.stderr.on("data", (d) => {
    serverLog += d;
    if (serverLog.includes("Ctrl-C stops.")) clearTimeout(timer), ok();
  });
  server.on("exit", (code) => fail(new Error(`depot-local exited ${code}:\n${serverLog}`)));
});

const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "screenshots"), { recursive: true });
const shots = [];
const axeReport = [];
let failed = false;

async function shot(page, name) {
  const file = join(out, "screenshots", `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

/** axe-core on the page as it is: every serious or critical violation fails the run. */
async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeReport.push({ screen: name, violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) });
  assert.equal(bad.length, 0, `axe on ${name}: ${JSON.stringify(bad.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target) })), null, 1)}`);
}

async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
    console.log(`ok    ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed = true;
    console.log(`FAIL  ${name}: ${e.stack ?? e}`);
    throw e;
  }
}

async function signIn(role, email) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log(`page error (${role}): ${e}`));
  await page.goto(`${base}/#/items`);
  await page.waitForURL(/\/dev\/sign-in/);
  await page.getByLabel("Email").fill(email);
  await page.locator(`input[name=role][value="${role}"]`).check();
  if (role === "editor") {
    await axe(page, "sign-in");
    await shot(page, "01-sign-in");
  }
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/#\/items/);
  await page.getByTestId("role").filter({ hasText: role }).waitFor();
  return page;
}

const sku = "E2E-WIDGET-1";
/** Waits until the page's URL matches re: a hash route changes no document, so there is no load to wait for. */
const urlMatches = (page, re) => page.waitForFunction((src) => new RegExp(src).test(location.href), re.source);

/** A link of the header's navigation. */
const nav = (page, name) => page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name, exact: true });
let admin, editor, viewer, itemUrl, csvPath;

try {
  await step("admin signs in and creates a second location", async () => {
    admin = await signIn("admin", "ada@example.com");
    await nav(admin, "Locations").click();
    await admin.getByLabel("Code").fill("RTM");
    await admin.getByLabel("Name", { exact: true }).fill("Rotterdam DC");
    await admin.getByRole("button", { name: "Create location" }).click();
    await admin.getByRole("cell", { name: "RTM", exact: true }).waitFor();
    await axe(admin, "locations");
    await shot(admin, "07-locations");
  });

  await step("sign in as editor", async () => {
    editor = await signIn("editor", "eddie@example.com");
    await editor.getByText("eddie@example.com").waitFor();
  });

  await step("create an item", async () => {
    await editor.getByRole("link", { name: "New item" }).click();
    await editor.getByLabel("SKU").fill(sku);
    await editor.getByLabel("Name").fill("Blue widget");
    await editor.getByLabel("Opening stock").fill("10");
    await editor.getByLabel("Tags (comma separated)").fill("blue, e2e");
    await editor.getByLabel("Reorder point").fill("3");
    await axe(editor, "new item");
    await editor.getByRole("button", { name: "Create item" }).click();
    await editor.getByRole("heading", { name: `${sku} · Blue widget` }).waitFor();
    itemUrl = editor.url();
  });

  await step("a photo that is no image shows why it was refused", async () => {
    await editor.getByLabel("Choose a photo").setInputFiles({ name: "broken.png", mimeType: "image/png", buffer: Buffer.from("not a picture at all") });
    const refused = editor.getByRole("alert").filter({ hasText: "The photo was refused:" });
    await refused.waitFor({ timeout: 20_000 });
    console.log(`      ${await refused.textContent()}`);
  });

  await step("drop a real photo and see its thumbnail", async () => {
    // A description being typed meanwhile survives the new versions the
    // photo makes (pending, then ready), and saves without a conflict.
    await editor.getByLabel("Description").fill("Typed while the photo went up.");
    // Dropped on the drop zone, as a person drags it from their files.
    const bytes = [...png(320, 240)];
    const drop = await editor.evaluateHandle((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], "widget.png", { type: "image/png" }));
      return dt;
    }, bytes);
    await editor.locator(".drop").dispatchEvent("dragover", { dataTransfer: drop });
    await editor.locator(".drop").dispatchEvent("drop", { dataTransfer: drop });
    await editor.getByLabel("Uploading").or(editor.getByTestId("thumbnail")).first().waitFor();
    const img = editor.getByTestId("thumbnail");
    await img.waitFor({ timeout: 20_000 });
    await editor.waitForFunction(() => {
      const i = document.querySelector("[data-testid=thumbnail]");
      return i && i.complete && i.naturalWidth > 0;
    });
    const w = await img.evaluate((i) => i.naturalWidth);
    assert.ok(w > 0 && w <= 640, `thumbnail width ${w}`);
    assert.equal(await editor.getByLabel("Description").inputValue(), "Typed while the photo went up.");
    await editor.getByRole("button", { name: "Save details" }).click();
    await editor.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await editor.getByRole("button", { name: "Save details" }).click();
    await editor.getByRole("status").filter({ hasText: "Nothing to save." }).waitFor();
  });

  await step("adjust stock, transfer it and count it", async () => {
    const adjust = editor.getByRole("form", { name: "Adjust stock" });
    await adjust.getByLabel("Location").selectOption("default");
    await adjust.getByLabel("Change (negative to take away)").fill("5");
    await adjust.getByLabel("Reason").selectOption("received");
    await adjust.getByLabel("Reference").fill("PO-7");
    await adjust.getByRole("button", { name: "Adjust stock" }).click();
    const stock = editor.getByTestId("stock");
    await stock.locator("tfoot").getByText("15", { exact: true }).first().waitFor();
    const transfer = editor.getByRole("form", { name: "Transfer stock" });
    await transfer.getByLabel("From").selectOption("default");
    await transfer.getByLabel("To").selectOption({ label: "RTM — Rotterdam DC" });
    await transfer.getByLabel("Quantity").fill("4");
    await transfer.getByLabel("Note").fill("restock Rotterdam");
    await transfer.getByRole("button", { name: "Transfer stock" }).click();
    const rtm = stock.getByRole("row", { name: /RTM — Rotterdam DC/ });
    await rtm.getByRole("cell").first().filter({ hasText: "4" }).waitFor();
    const def = await stock.getByRole("row", { name: /DEFAULT/ }).getByRole("cell").first().textContent();
    assert.equal(def, "11");
    await editor.getByRole("cell", { name: "transfer_in" }).waitFor();
    // A cycle count at the default location finds one more.
    const count = editor.getByRole("form", { name: "Count stock" });
    await count.getByLabel("Location").selectOption("default");
    await count.getByLabel("Counted").fill("12");
    await count.getByRole("button", { name: "Record count" }).click();
    await stock.locator("tfoot").getByText("16", { exact: true }).first().waitFor();
    await editor.getByRole("cell", { name: "cycle_count" }).waitFor();
  });

  await step("group it", async () => {
    await nav(editor, "Groups").click();
    await editor.getByLabel("New group").fill("Spring sale");
    await editor.getByRole("button", { name: "Create group" }).click();
    await editor.getByRole("link", { name: "Spring sale" }).waitFor();
    await axe(editor, "groups");
    await shot(editor, "06-groups");
    await editor.goto(itemUrl);
    await editor.getByLabel("Add to group").selectOption({ label: "Spring sale" });
    await editor.getByRole("button", { name: "Add", exact: true }).click();
    await editor.getByRole("list", { name: "Groups of this item" }).getByRole("link", { name: "Spring sale" }).waitFor();
    await axe(editor, "item");
    await shot(editor, "03-item");
  });

  await step("every control of the item page is reachable by keyboard", async () => {
    // Tab through the page once: every visible link, button and field
    // takes the focus.
    const controls = await editor.evaluate(() => {
      const all = [...document.querySelectorAll("a[href], button, input, select, textarea")].filter((e) => e.checkVisibility() && !e.disabled);
      all.forEach((e, i) => e.setAttribute("data-k", String(i)));
      return all.length;
    });
    const seen = new Set();
    await editor.locator("body").focus();
    for (let i = 0; i < controls + 20 && seen.size < controls; i++) {
      await editor.keyboard.press("Tab");
      const k = await editor.evaluate(() => document.activeElement?.getAttribute("data-k"));
      if (k != null) seen.add(k);
    }
    const missed = await editor.evaluate((seen) =>
      [...document.querySelectorAll("[data-k]")].filter((e) => !seen.includes(e.getAttribute("data-k"))).map((e) => e.outerHTML.slice(0, 80)), [...seen]);
    assert.deepEqual(missed, [], "controls the keyboard never reaches");
    assert.ok(controls > 20, `only ${controls} controls`);
  });

  await step("a conflicting edit shows both values and overwrites nothing", async () => {
    // Someone else renames it after the page read it.
    const status = await editor.evaluate(async (url) => {
      const id = url.split("/").pop();
      const token = sessionStorage.getItem("depot.idToken");
      const res = await fetch(`/items/${id}`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/merge-patch+json" },
        body: JSON.stringify({ name: "Blue widget (theirs)" }),
      });
      return res.status;
    }, itemUrl);
    assert.equal(status, 200);
    await editor.getByLabel("Name", { exact: true }).fill("Blue widget (mine)");
    await editor.getByRole("button", { name: "Save details" }).click();
    const conflict = editor.locator(".conflict");
    await conflict.waitFor();
    await conflict.getByRole("cell", { name: "Blue widget (theirs)" }).waitFor();
    await conflict.getByRole("cell", { name: "Blue widget (mine)" }).waitFor();
    await shot(editor, "04-item-conflict");
    await conflict.getByRole("button", { name: "Keep the current values" }).click();
    await editor.getByRole("heading", { name: `${sku} · Blue widget (theirs)` }).waitFor();
  });

  await step("search as you type, filters and sort in the URL", async () => {
    await nav(editor, "Items").click();
    await editor.getByLabel("Search").fill("blue wid");
    await urlMatches(editor, /q=blue\+wid/);
    await editor.getByRole("link", { name: sku }).waitFor();
    await editor.getByLabel("Group").selectOption({ label: "Spring sale" });
    await editor.getByLabel("Low stock").check();
    await urlMatches(editor, /lowStock=true/);
    await editor.getByText("No items match these filters").waitFor();
    await editor.getByLabel("Low stock").uncheck();
    await editor.getByLabel("Sort").selectOption("name");
    await urlMatches(editor, /sort=name/);
    // A bookmark: the same URL in a new tab (whose sessionStorage holds no
    // token) signs in, then shows the same view.
    const url = editor.url();
    const again = await editor.context().newPage();
    await again.goto(url);
    await again.waitForURL(/\/dev\/sign-in/);
    await again.getByLabel("Email").fill("eddie@example.com");
    await again.getByLabel("editor").check();
    await again.getByRole("button", { name: "Sign in" }).click();
    await again.waitForURL(url);
    await again.getByRole("link", { name: sku }).waitFor();
    assert.equal(await again.getByLabel("Sort").inputValue(), "name");
    assert.equal(await again.getByLabel("Search").inputValue(), "blue wid");
    await again.close();
    await axe(editor, "items");
    await shot(editor, "02-items-filtered");
  });

  await step("export and download the CSV, then check its rows", async () => {
    await nav(editor, "Export & import").click();
    await editor.getByRole("button", { name: "Export CSV" }).click();
    const link = editor.getByTestId("download");
    await link.waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([editor.waitForEvent("download"), link.click()]);
    assert.match(download.suggestedFilename(), /^depot-items-\d{4}-\d{2}-\d{2}\.csv$/);
    csvPath = join(out, download.suggestedFilename());
    await download.saveAs(csvPath);
    const rows = parseCSV(readFileSync(csvPath, "utf8"));
    const header = rows[0];
    assert.ok(header.includes("sku") && header.includes("onHand:RTM"), `header ${header}`);
    assert.equal(rows.length, 2, `rows: ${JSON.stringify(rows)}`);
    const row = Object.fromEntries(header.map((h, i) => [h, rows[1][i]]));
    assert.equal(row.sku, sku);
    assert.equal(row.quantity, "16");
    assert.equal(row["onHand:DEFAULT"], "12");
    assert.equal(row["onHand:RTM"], "4");
    assert.equal(row.tags, "blue;e2e");
  });

  await step("import: a dry run, its per-row results, then apply", async () => {
    // The export back, with one row more: a new item by SKU.
    const rows = parseCSV(readFileSync(csvPath, "utf8"));
    const extra = rows[1].map((v, i) => (rows[0][i] === "sku" ? "E2E-WIDGET-2" : rows[0][i] === "id" ? "" : v));
    const added = Buffer.from([...rows, extra].map((r) => r.map((v) => `"${v.replace(/"/g, '""')}"`).join(",")).join("\r\n") + "\r\n");
    await editor.getByLabel("CSV file").setInputFiles({ name: "items.csv", mimeType: "text/csv", buffer: added });
    await editor.getByRole("button", { name: "Dry run" }).click();
    const results = editor.getByTestId("import-results");
    await results.waitFor({ timeout: 30_000 });
    await editor.getByText(/Dry run: 2 rows — 1 created, 0 updated, 1 unchanged, 0 failed/).waitFor();
    await results.getByRole("row", { name: /E2E-WIDGET-2 created/ }).waitFor();
    await axe(editor, "export & import");
    await shot(editor, "08-export-import");
    await editor.getByRole("button", { name: "Apply import" }).click();
    await editor.getByText(/Import: 2 rows — 1 created, 0 updated, 1 unchanged/).waitFor({ timeout: 30_000 });
  });

  await step("delete with a comment, find it in the trash, restore it", async () => {
    await editor.goto(itemUrl);
    await editor.getByRole("button", { name: "Delete item" }).click();
    const dialog = editor.getByRole("dialog");
    await dialog.getByLabel("Why? (kept with the deletion)").fill("damaged in transit");
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await urlMatches(editor, /#\/trash/);
    const row = editor.getByRole("row", { name: new RegExp(sku) });
    await row.getByRole("cell", { name: "damaged in transit" }).waitFor();
    await row.getByRole("cell", { name: "eddie@example.com" }).waitFor();
    await axe(editor, "trash");
    await shot(editor, "05-trash");
    await row.getByRole("button", { name: `Restore ${sku}` }).click();
    await editor.getByText(`Restored ${sku}.`).waitFor();
    await editor.goto(itemUrl);
    await editor.getByRole("heading", { name: new RegExp(sku) }).waitFor();
  });

  await step("a viewer finds no write controls", async () => {
    viewer = await signIn("viewer", "vera@example.com");
    await viewer.getByRole("link", { name: sku }).waitFor();
    assert.equal(await viewer.getByRole("link", { name: "New item" }).count(), 0);
    await viewer.goto(itemUrl);
    await viewer.getByRole("heading", { name: new RegExp(sku) }).waitFor();
    await viewer.getByTestId("thumbnail").waitFor();
    for (const name of ["Save details", "Delete item", "Adjust stock", "Record count", "Transfer stock", "Add"]) {
      assert.equal(await viewer.getByRole("button", { name, exact: true }).count(), 0, `a viewer sees ${name}`);
    }
    assert.equal(await viewer.locator("input[type=file]").count(), 0);
    assert.equal(await viewer.getByLabel("Name", { exact: true }).getAttribute("readonly"), "");
    await axe(viewer, "item (viewer)");
    await shot(viewer, "09-item-viewer");
    for (const [link, none] of [["Trash", "Restore"], ["Groups", "Create group"], ["Locations", "Create location"]]) {
      await nav(viewer, link).click();
      await viewer.getByRole("heading", { level: 1 }).waitFor();
      assert.equal(await viewer.getByRole("button", { name: new RegExp(none) }).count(), 0, `a viewer sees ${none} on ${link}`);
    }
    await nav(viewer, "Export & import").click();
    assert.equal(await viewer.getByRole("button", { name: "Dry run" }).count(), 0);
  });

  await step("edit a location and a group", async () => {
    await nav(admin, "Locations").click();
    await admin.getByLabel("Name of RTM").fill("Rotterdam distribution centre");
    await admin.getByRole("row", { name: /RTM/ }).getByRole("button", { name: "Rename" }).click();
    await admin.getByRole("row", { name: /RTM/ }).getByRole("button", { name: "Rename" }).and(admin.locator(":disabled")).waitFor();
    await admin.reload();
    assert.equal(await admin.getByLabel("Name of RTM").inputValue(), "Rotterdam distribution centre");
    // A location that holds stock cannot go: the dialog says why.
    await admin.getByRole("button", { name: "Delete RTM" }).click();
    const dialog = admin.getByRole("dialog");
    await dialog.getByLabel("Why? (kept with the deletion)").fill("lease ended");
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await dialog.getByRole("alert").waitFor();
    console.log(`      ${await dialog.getByRole("alert").textContent()}`);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await admin.getByRole("cell", { name: "RTM", exact: true }).waitFor();
    await nav(editor, "Groups").click();
    await editor.getByRole("link", { name: "Spring sale" }).click();
    await editor.getByLabel("Description").fill("Everything blue, 20% off");
    await editor.getByRole("button", { name: "Save group" }).click();
    await editor.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await editor.getByRole("link", { name: new RegExp(sku) }).waitFor();
    await nav(editor, "Groups").click();
    await editor.getByRole("cell", { name: "Everything blue, 20% off" }).waitFor();
  });

  await step("a 403 is explained", async () => {
    // A Cognito user nobody gave a role: the token is good, every call 403.
    const nobody = await signIn("none", "nora@example.com");
    await nobody.getByRole("alert").filter({ hasText: "Your account has no role yet" }).waitFor();
    await nobody.getByRole("alert").filter({ hasText: "Not allowed: your role does not permit this" }).first().waitFor();
    await axe(nobody, "no role (403)");
    await shot(nobody, "10-no-role-403");
    await nobody.context().close();
  });

  await step("OIDC sign-in: authorization code with PKCE, as at the Cognito hosted UI", async () => {
    // The console as deployed (config.json in oidc mode) against a stand-in
    // issuer answered inside the browser: discovery, /authorize (which
    // checks the PKCE challenge is there) and /token (which checks the
    // verifier against it), handing out an ID token of make run's local
    // issuer, so the API takes it.
    const issuer = "https://issuer.depot.local";
    const form = new URLSearchParams({ email: "olga@example.com", role: "editor", next: "/items" });
    const page = await (await fetch(`${base}/dev/sign-in`, { method: "POST", body: form })).text();
    const idToken = /setItem\("depot.idToken", "([^"]+)"\)/.exec(page)[1];
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const cors = { "Access-Control-Allow-Origin": "*" };
    let challenge, verified = false;
    await context.route(`${base}/config.json`, (r) =>
      r.fulfill({ json: { apiUrl: "", auth: { mode: "oidc", authority: issuer, clientId: "depot-console", logoutUrl: `${issuer}/logout` } } }),
    );
    await context.route(`${issuer}/**`, async (r) => {
      const url = new URL(r.request().url());
      if (url.pathname === "/.well-known/openid-configuration") {
        return r.fulfill({ headers: cors, json: { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${base}/.well-known/jwks.json` } });
      }
      if (url.pathname === "/authorize") {
        const q = url.searchParams;
        assert.equal(q.get("response_type"), "code");
        assert.equal(q.get("code_challenge_method"), "S256");
        assert.equal(q.get("client_id"), "depot-console");
        assert.equal(q.get("redirect_uri"), `${base}/`);
        challenge = q.get("code_challenge");
        const back = `${q.get("redirect_uri")}?code=the-code&state=${q.get("state")}`;
        return r.fulfill({ contentType: "text/html", body: `<script>location.replace(${JSON.stringify(back)})</script>` });
      }
      if (url.pathname === "/token") {
        const body = new URLSearchParams(r.request().postData());
        assert.equal(body.get("grant_type"), "authorization_code");
        assert.equal(body.get("code"), "the-code");
        const { createHash } = await import("node:crypto");
        verified = createHash("sha256").update(body.get("code_verifier")).digest("base64url") === challenge;
        return verified
          ? r.fulfill({ headers: cors, json: { id_token: idToken, access_token: "unused", token_type: "Bearer", expires_in: 3600 } })
          : r.fulfill({ status: 400, headers: cors, json: { error: "invalid_grant" } });
      }
      return r.fulfill({ status: 404, headers: cors, body: "" });
    });
    const oidc = await context.newPage();
    await oidc.goto(`${base}/#/items?q=widget`);
    await oidc.getByTestId("role").filter({ hasText: "editor" }).waitFor();
    assert.ok(verified, "the token request's code_verifier did not match the challenge");
    await urlMatches(oidc, /\/#\/items\?q=widget$/);
    await oidc.getByRole("link", { name: sku }).waitFor();
    await oidc.getByText("olga@example.com").waitFor();
    await context.close();
  });

  await step("a 401 sends the person to sign in again", async () => {
    // A token that is well formed and unexpired but not signed by the issuer.
    await viewer.evaluate(() => {
      const t = sessionStorage.getItem("depot.idToken").split(".");
      sessionStorage.setItem("depot.idToken", `${t[0]}.${t[1]}.${t[2].split("").reverse().join("")}`);
    });
    // The next call answers 401, and the console sends the person to sign in.
    await viewer.goto(`${base}/#/items?q=blue`);
    await viewer.waitForURL(/\/dev\/sign-in\?next=/);
    assert.equal(await viewer.locator("input[name=next]").inputValue(), "/items?q=blue");
  });
} catch {
  failed = true;
} finally {
  await browser.close();
  server.kill("SIGTERM");
  rmSync(state, { recursive: true, force: true });
  writeFileSync(join(out, "axe.json"), JSON.stringify(axeReport, null, 1));
  const total = axeReport.reduce((n, r) => n + r.violations.length, 0);
  console.log(`axe: ${axeReport.length} screens, ${total} violations below serious, 0 serious or critical${failed ? " (up to the failure)" : ""}`);
  console.log(`screenshots (${shots.length}):\n  ${shots.join("\n  ")}`);
  console.log(`e2e: ${failed ? "FAIL" : "ok"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (failed) {
    console.log(`depot-local's log, last lines:\n${serverLog.split("\n").slice(-30).join("\n")}`);
    process.exitCode = 1;
  }
}
