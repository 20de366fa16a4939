// The API client: openapi-fetch over the types openapi-typescript generates
// from ../openapi.yaml (npm run gen, run by make), so a call that does not
// match the API does not compile.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./api.d";
import { session, signIn } from "./auth";

export type Schemas = components["schemas"];
export type Item = Schemas["Item"];
export type Location = Schemas["Location"];
export type Group = Schemas["Group"];
export type Problem = Schemas["Problem"];

/** An answer that is not a 2xx, with its problem details when it has them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & { message?: string },
  ) {
    super(describe(status, problem));
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

function describe(status: number, p: Partial<Problem> & { message?: string }): string {
  if (status === 403) {
    return `Not allowed: your role does not permit this (${p.detail ?? p.title ?? "forbidden"}). Ask an admin for a higher role.`;
  }
  const fields = (p.errors ?? []).map((e) => `${e.field}: ${e.message ?? e.code}`).join("; ");
  return [p.detail ?? p.title ?? p.message ?? `HTTP ${status}`, fields].filter(Boolean).join(" — ");
}

const auth: Middleware = {
  onRequest({ request }) {
    const s = session();
    if (s) request.headers.set("Authorization", `Bearer ${s.token}`);
    // Every POST and DELETE carries an Idempotency-Key, so a retried one
    // never acts twice.
    if ((request.method === "POST" || request.method === "DELETE") && !request.headers.has("Idempotency-Key")) {
      request.headers.set("Idempotency-Key", crypto.randomUUID());
    }
    return request;
  },
  onResponse({ response }) {
    // The gateway's 401: no token, or an expired or bad one. Sign in again.
    if (response.status === 401) void signIn();
    return response;
  },
};

export let api: ReturnType<typeof createClient<paths>>;

export function useApi(baseUrl: string) {
  api = createClient<paths>({ baseUrl: baseUrl.replace(/\/$/, "") });
  api.use(auth);
}

/** The data of an answer, or an ApiError. */
export async function ok<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (!response.ok || data === undefined) {
    throw new ApiError(response.status, (error ?? {}) as Partial<Problem>);
  }
  return data;
}

/** The quoted version, as If-Match wants it. */
export const etag = (version: number) => `"${version}"`;

/**
 * POSTs a presigned S3 form: every field, then the file last (S3 ignores what
 * follows it), reporting progress; resolves on S3's 2xx, rejects with S3's
 * reason otherwise. XMLHttpRequest, because fetch reports no upload progress.
 */
export function postForm(
  form: { url: string; fields: Record<string, string> },
  file: Blob,
  onProgress: (fraction: number) => void,
): Promise<void> {
  const body = new FormData();
  for (const [k, v] of Object.entries(form.fields)) body.append(k, v);
  body.append("file", file);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.url);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      const code = /<Code>([^<]*)<\/Code>/.exec(xhr.responseText)?.[1];
      const msg = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText)?.[1];
      reject(new Error(`The storage refused the file (${xhr.status}${code ? " " + code : ""})${msg ? ": " + msg : ""}`));
    };
    xhr.onerror = () => reject(new Error("The upload failed: the storage could not be reached."));
    xhr.send(body);
  });
}
