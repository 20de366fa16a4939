// Who is signed in: the ID token the API's JWT authorizer checks, kept in
// sessionStorage (gone with the tab), and the role it carries.
//
// Two ways to get one, chosen by the runtime config (config.json):
//   - "local": make run's dev sign-in page (depot-local, /dev/sign-in) mints
//     a token from the local issuer and hands it back here;
//   - "oidc": the authorization code flow with PKCE at the stack's issuer
//     (the Cognito hosted UI, or an external OpenID Connect provider), by
//     oidc-client-ts, loaded only then (it is not in the initial bundle).

export type AuthConfig =
  | { mode: "local"; signInUrl: string }
  | { mode: "oidc"; authority: string; clientId: string; scope?: string; logoutUrl?: string };

export interface RuntimeConfig {
  /** Where the API is; "" is this origin (make run). */
  apiUrl: string;
  auth: AuthConfig;
  /** The claim that holds the roles (docs/auth.md); default cognito:groups. */
  rolesClaim?: string;
}

export type Role = "none" | "viewer" | "editor" | "admin";
const ranks: Record<Role, number> = { none: 0, viewer: 1, editor: 2, admin: 3 };

export interface Session {
  token: string;
  who: string;
  role: Role;
  expiresAt: number; // ms since the epoch
}

const tokenKey = "depot.idToken";

function claimsOf(token: string): Record<string, unknown> {
  const part = token.split(".")[1] ?? "";
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

/** The highest role among the claim's (an array, or a string split on spaces and commas, as the functions read it). */
export function roleOf(claims: Record<string, unknown>, claim = "cognito:groups"): Role {
  const raw = claims[claim];
  const names = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(/[\s,\[\]]+/) : [];
  let best: Role = "none";
  for (const n of names) if (n in ranks && ranks[n as Role] > ranks[best]) best = n as Role;
  return best;
}

export function can(s: Session | null, role: Role): boolean {
  return !!s && ranks[s.role] >= ranks[role];
}

let config: RuntimeConfig;

export function useConfig(c: RuntimeConfig) {
  config = c;
}

/** The signed-in session, or null when there is no token or it has expired. */
export function session(): Session | null {
  const token = sessionStorage.getItem(tokenKey);
  if (!token) return null;
  try {
    const c = claimsOf(token);
    const expiresAt = Number(c.exp) * 1000;
    if (!(expiresAt > Date.now())) return null;
    return { token, who: String(c.email ?? c.sub ?? "?"), role: roleOf(c, config.rolesClaim), expiresAt };
  } catch {
    return null;
  }
}

export function keepToken(token: string) {
  sessionStorage.setItem(tokenKey, token);
}

async function userManager() {
  if (config.auth.mode !== "oidc") throw new Error("not an OIDC configuration");
  const { UserManager, WebStorageStateStore } = await import("oidc-client-ts");
  return new UserManager({
    authority: config.auth.authority,
    client_id: config.auth.clientId,
    redirect_uri: location.origin + location.pathname,
    response_type: "code", // with PKCE, oidc-client-ts's default
    scope: config.auth.scope ?? "openid email profile",
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    // The console keeps the ID token itself; when it expires (60 minutes
    // with Cognito) the API's 401 sends the person back through the issuer,
    // whose session signs them in again without a password. No hidden
    // iframes or timers.
    automaticSilentRenew: false,
    monitorSession: false,
  });
}

let leaving = false;

/**
 * Sends the person to sign in; they come back to `next` (a route of this
 * console). Once only: a page's calls may all answer 401 at once.
 */
export async function signIn(next = location.hash.slice(1) || "/items") {
  if (leaving) return;
  leaving = true;
  sessionStorage.removeItem(tokenKey);
  if (config.auth.mode === "local") {
    location.assign(`${config.auth.signInUrl}?next=${encodeURIComponent(next)}`);
    return;
  }
  const um = await userManager();
  await um.signinRedirect({ state: next });
}

/** Finishes an OIDC sign-in when the issuer has sent the browser back with a code. */
export async function completeSignIn(): Promise<void> {
  const q = new URLSearchParams(location.search);
  if (config.auth.mode !== "oidc" || !q.has("code") || !q.has("state")) return;
  const um = await userManager();
  const user = await um.signinRedirectCallback();
  // The API wants the ID token: it carries email and the groups (docs/auth.md).
  if (user.id_token) keepToken(user.id_token);
  const next = typeof user.state === "string" ? user.state : "/items";
  history.replaceState(null, "", location.pathname + "#" + next);
}

export function signOut() {
  sessionStorage.removeItem(tokenKey);
  if (config.auth.mode === "oidc" && config.auth.logoutUrl) {
    location.assign(config.auth.logoutUrl);
    return;
  }
  void signIn("/items");
}
