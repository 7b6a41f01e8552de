import { Show, createSignal, type JSX } from "solid-js";
import { errorText, signIn, tokenIsRight, tokenNeeded } from "../api";
import { useFocusTrap } from "../focusTrap";

function TokenForm(props: { children: JSX.Element; onSubmit: (e: SubmitEvent) => void }) {
  let form!: HTMLFormElement;
  useFocusTrap(() => form);
  return (
    <form class="modal modal-small" role="dialog" aria-modal="true" aria-label="Access token" data-testid="token-prompt" ref={form} onSubmit={props.onSubmit}>
      {props.children}
    </form>
  );
}

/** Shown when the server answers 401: asks for the access token, checks it, then reloads the
 * editor signed in (the token goes into an HttpOnly cookie, never into page storage). */
export function TokenPrompt() {
  const [token, setToken] = createSignal("");
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const value = token().trim();
    if (!value) return;
    setBusy(true);
    setError("");
    try {
      if (await tokenIsRight(value)) signIn(value);
      else setError("That is not this server's token. `vidmatte token` on the server prints it (or, if it was started with --token, the token given there).");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Show when={tokenNeeded()}>
      <div class="modal-backdrop">
        <TokenForm onSubmit={submit}>
          <h2>This server needs its access token</h2>
          <p class="muted">
            Open the URL that <code>vidmatte serve</code> printed when it started, or paste the token here:{" "}
            <code>vidmatte token</code> prints it on the server's machine (for a server started with <code>--token</code>: the token given there).
          </p>
          <label class="field">
            <span>Access token</span>
            <input
              class="input mono"
              type="password"
              autocomplete="off"
              data-testid="token-input"
              value={token()}
              onInput={(e) => setToken(e.currentTarget.value)}
            />
          </label>
          <Show when={error()}>
            <p class="error-text" role="alert" data-testid="token-error">
              {error()}
            </p>
          </Show>
          <div class="modal-actions">
            <button class="btn btn-primary" type="submit" data-testid="token-submit" disabled={busy() || !token().trim()}>
              Open the editor
            </button>
          </div>
        </TokenForm>
      </div>
    </Show>
  );
}
