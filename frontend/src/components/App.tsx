import { Show, createMemo, createSignal, onCleanup, onMount } from "solid-js";
import { api, errorText, type Health, type Project } from "../api";
import { formatDuration } from "../timecode";
import { showError } from "../toasts";
import { ConfirmHost } from "./ConfirmHost";
import { Editor } from "./Editor";
import { ProjectsPanel } from "./ProjectsPanel";
import { Toasts } from "./Toasts";
import { TokenPrompt } from "./TokenPrompt";

/** `#/p/<pid>?f=<frame>` ⇄ {pid, frame} */
export function parseHash(hash: string): { pid: string | null; frame: number } {
  const m = /^#\/p\/([^?/]+)(?:\?f=(\d+))?/.exec(hash);
  return m ? { pid: decodeURIComponent(m[1]), frame: m[2] ? Number(m[2]) : 0 } : { pid: null, frame: 0 };
}

export function formatHash(pid: string | null, frame: number): string {
  return pid ? `#/p/${encodeURIComponent(pid)}${frame > 0 ? `?f=${frame}` : ""}` : "#/";
}

export function App() {
  const initial = parseHash(window.location.hash);
  const [projects, setProjects] = createSignal<Project[]>([]);
  const [loading, setLoading] = createSignal(true);
  const [selectedId, setSelectedId] = createSignal<string | null>(initial.pid);
  const [health, setHealth] = createSignal<Health | null>(null);
  const [offline, setOffline] = createSignal(false);
  let initialFrame = initial.frame;

  const projectById = (id: string) => projects().find((p) => p.id === id);
  const selected = createMemo(() => {
    const id = selectedId();
    return id && projectById(id) ? id : null;
  });

  const refresh = async (select?: string) => {
    try {
      const list = await api.listProjects();
      setProjects(list);
      setOffline(false);
      if (select) choose(select);
      else if (selectedId() && !list.some((p) => p.id === selectedId())) choose(null);
    } catch (e) {
      showError(errorText(e), "Could not load the projects");
    } finally {
      setLoading(false);
    }
  };

  const choose = (pid: string | null) => {
    if (pid === selectedId()) return;
    initialFrame = 0;
    setSelectedId(pid);
    history.replaceState(null, "", formatHash(pid, 0));
  };

  let hashTimer: ReturnType<typeof setTimeout> | undefined;
  const rememberFrame = (frame: number) => {
    clearTimeout(hashTimer);
    hashTimer = setTimeout(() => history.replaceState(null, "", formatHash(selectedId(), frame)), 250);
  };

  const onHashChange = () => {
    const h = parseHash(window.location.hash);
    if (h.pid !== selectedId()) {
      initialFrame = h.frame;
      setSelectedId(h.pid);
    }
  };

  onMount(() => {
    void refresh();
    api
      .health()
      .then(setHealth)
      .catch((e) => {
        setOffline(true);
        showError(errorText(e), "The server does not answer");
      });
    window.addEventListener("hashchange", onHashChange);
    document.addEventListener("visibilitychange", onVisible);
  });
  onCleanup(() => {
    window.removeEventListener("hashchange", onHashChange);
    document.removeEventListener("visibilitychange", onVisible);
  });

  // Another tab (or the API) may have changed things: the server's list is the truth.
  const onVisible = () => {
    if (document.visibilityState === "visible") void refresh();
  };

  const current = () => (selected() ? projectById(selected()!) : undefined);

  return (
    <div class="app">
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          vidmatte
        </div>
        <Show when={current()}>
          {(p) => (
            <div class="crumb" data-testid="project-title">
              <strong>{p().name}</strong>
              <span class="muted">
                {p().video.width}×{p().video.height} · {Math.round(p().video.fps * 100) / 100} fps · {p().video.frame_count} frames ·{" "}
                {formatDuration(p().video.duration)}
              </span>
            </div>
          )}
        </Show>
        <div class="grow" />
        <Show when={health()?.device ? health() : null}>
          {(h) => (
            <span class="pill" data-testid="health" title={`matting head: ${h().matting_head} · version ${h().version}`}>
              <span class={`dot ${h().device === "cuda" ? "dot-gpu" : ""}`} />
              {h().device.toUpperCase()} · SAM2 {h().sam2_model}
              {h().sam2_test_model ? " (test model)" : ""}
            </span>
          )}
        </Show>
        <Show when={offline()}>
          <span class="pill pill-error">server offline</span>
        </Show>
      </header>
      <div class={`workspace ${selected() ? "" : "no-project"}`}>
        <ProjectsPanel
          projects={projects()}
          loading={loading()}
          selectedId={selected()}
          onSelect={choose}
          onChanged={(s) => void refresh(s)}
          onDeleted={(pid) => {
            if (pid === selectedId()) choose(null);
          }}
        />
        <Show
          when={selected()}
          keyed
          fallback={
            <main class="editor-main welcome" data-testid="welcome">
              <div class="welcome-card">
                <h1>Cut anything out of a video</h1>
                <ol>
                  <li>Add a video on the left (button or drag &amp; drop).</li>
                  <li>Click on the object: left click adds, right click removes areas. The mask appears at once.</li>
                  <li>Fix mistakes on any frame, then press <strong>Matting</strong> and download the result.</li>
                </ol>
                <p class="muted">Press <kbd>?</kbd> in the editor for keyboard shortcuts.</p>
              </div>
            </main>
          }
        >
          {(pid) => <Editor project={projectById(pid) ?? projects()[0]} initialFrame={initialFrame} onFrame={rememberFrame} />}
        </Show>
      </div>
      <Toasts />
      <ConfirmHost />
      <TokenPrompt />
    </div>
  );
}
