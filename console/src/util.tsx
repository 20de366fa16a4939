// Small shared pieces: loading data, showing errors, dates.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

/** Runs load when deps change (and on reload), keeping the last data while it runs. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((t) => t + 1), []) };
}

export function Alert({ error }: { error?: Error | string | null }) {
  if (!error) return null;
  return (
    <p class="alert" role="alert">
      {typeof error === "string" ? error : error.message}
    </p>
  );
}

export function Status({ children }: { children: ComponentChildren }) {
  return (
    <p class="status" role="status">
      {children}
    </p>
  );
}

export const when = (ts?: string | null) => (ts ? new Date(ts).toLocaleString() : "");

/** Runs an action, holding its error or success message for a form. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (fn: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const msg = await fn();
      if (msg) setDone(msg);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run, setError };
}

/**
 * A delete button that asks why first, in a modal dialog: the comment is
 * kept with the deletion (who, when and why show in the trash). onDelete
 * gets the comment; its error shows in the dialog.
 */
export function DeleteButton({ label, title, note, onDelete }: {
  label: string;
  title: string;
  note: string;
  onDelete: (comment: string) => Promise<void>;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [comment, setComment] = useState("");
  const act = useAction();
  const id = useId();
  return (
    <>
      <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={id}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              await onDelete(comment.trim());
              dialog.current?.close();
            });
          }}
        >
          <h2 id={id}>{title}</h2>
          <p>{note}</p>
          <label>
            Why? (kept with the deletion)
            <textarea name="comment" required value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </label>
          <Alert error={act.error} />
          <button type="submit" class="danger" disabled={act.busy || !comment.trim()}>
            Delete
          </button>{" "}
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </form>
      </dialog>
    </>
  );
}
