// The Depot console: the inventory in a browser, over Depot's public API.
import { render } from "preact";
import { useApi } from "./api";
import { can, completeSignIn, type RuntimeConfig, session, signIn, signOut, useConfig } from "./auth";
import { href, useRoute } from "./router";
import { Alert } from "./util";
import { ItemsView } from "./views/items";
import { ItemView, NewItemView } from "./views/item";
import { TrashView } from "./views/trash";
import { LocationsView } from "./views/locations";
import { GroupsView, GroupView } from "./views/groups";
import { DataView } from "./views/data";
import "./style.css";

const sections = [
  ["/items", "Items"],
  ["/groups", "Groups"],
  ["/locations", "Locations"],
  ["/trash", "Trash"],
  ["/data", "Export & import"],
] as const;

function App() {
  const route = useRoute();
  const s = session();
  if (!s) {
    void signIn(route.path + (route.query.size ? "?" + route.query : ""));
    return <p class="status">Signing in…</p>;
  }
  const [section, id] = route.parts;
  let view;
  switch (section) {
    case "items":
      view = id === "new" ? <NewItemView /> : id ? <ItemView id={id} /> : <ItemsView query={route.query} />;
      break;
    case "groups":
      view = id ? <GroupView id={id} /> : <GroupsView />;
      break;
    case "locations":
      view = <LocationsView />;
      break;
    case "trash":
      view = <TrashView query={route.query} />;
      break;
    case "data":
      view = <DataView />;
      break;
    default:
      view = <Alert error={`No such page: ${route.path}`} />;
  }
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header>
        <strong class="brand">Depot</strong>
        <nav aria-label="Sections">
          {sections.map(([path, label]) => (
            <a href={href(path)} aria-current={route.path.startsWith(path) ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          {s.who} · <span data-testid="role">{s.role}</span>
          {!can(s, "editor") && <span class="badge">read only</span>}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {s.role === "none" && (
          <Alert error="Your account has no role yet, so Depot refuses everything you ask. Ask an admin to make you a viewer, editor or admin, then sign in again." />
        )}
        {view}
      </main>
    </>
  );
}

async function start() {
  const root = document.getElementById("app")!;
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
    const config = (await res.json()) as RuntimeConfig;
    useConfig(config);
    useApi(config.apiUrl);
    await completeSignIn();
    render(<App />, root);
  } catch (e) {
    render(<Alert error={`The console could not start: ${(e as Error).message}`} />, root);
  }
}

void start();
