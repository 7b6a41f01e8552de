import { Match, Show, Switch, createEffect, createMemo, createSignal, on, onCleanup, onMount } from "solid-js";
import { api, errorText, online, projectGone, type Health, type Project } from "../api";
import { watchConnection } from "../editor/connection";
import { mayLeaveProject } from "../leaveGuard";
import { showError } from "../toasts";
import { ConfirmHost } from "./ConfirmHost";
import { SequenceFpsHost } from "./SequenceFpsHost";
import { Editor } from "./Editor";
import { HealthPill } from "./HealthPill";
import { projectMeta, VideoNotes } from "./ProjectItem";
import { ProjectsPanel } from "./ProjectsPanel";
import { Toasts } from "./Toasts";
import { TokenPrompt } from "./TokenPrompt";
import { MissingProject, Welcome } from "./Welcome";

/** `#/p/<pid>?f=<frame>` ⇄ {pid, frame} */
export function parseHash(hash: string): { pid: string | null; frame: number } {
  const m = /^#\/p\/([^?/]+)(?:\?f=(\d+))?/.exec(hash);
  return m ? { pid: decodeId(m[1]), frame: m[2] ? Number(m[2]) : 0 } : { pid: null, frame: 0 };
}

/** A mangled link (cut off mid-character) keeps its id as typed: no project has it, so the
 * view says the project does not exist instead of the page failing to start. */
function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function formatHash(pid: string | null, frame: number): string {
  return pid ? `#/p/${encodeURIComponent(pid)}${frame > 0 ? `?f=${frame}` : ""}` : "#/";
}

/** What the main area shows for the URL's project `pid`, given the ids the server listed
 * (`null` until a list arrived: an unknown id is only "missing" once the server said so). */
export function mainView(pid: string | null, listed: readonly string[] | null): "welcome" | "editor" | "missing" {
  if (!pid || !listed) return "welcome";
  return listed.includes(pid) ? "editor" : "missing";
}

export function App() {
  const initial = parseHash(window.location.hash);
  const [projects, setProjects] = createSignal<Project[]>([]);
  const [loading, setLoading] = createSignal(true);
  const [listed, setListed] = createSignal(false);
  const [selectedId, setSelectedId] = createSignal<string | null>(initial.pid);
  const [health, setHealth] = createSignal<Health | null>(null);
  let initialFrame = initial.frame;
  // A link to the open project names a frame: the editor goes there.
  const [frameAsked, setFrameAsked] = createSignal<{ frame: number } | null>(null);

  const projectById = (id: string) => projects().find((p) => p.id === id);
  const view = createMemo(() => mainView(selectedId(), listed() ? projects().map((p) => p.id) : null));
  const selected = createMemo(() => (view() === "editor" ? selectedId() : null));

  // Reads of the list answer in any order: one asked before the list shown was (a project
  // added, renamed or deleted since) would put the old list back.
  let listAsked = 0;
  let listShown = 0;
  const refresh = async (select?: string) => {
    const mine = ++listAsked;
    try {
      const list = await api.listProjects();
      if (mine > listShown) {
        listShown = mine;
        setProjects(list);
        setListed(true);
      }
      if (select) void choose(select);
    } catch (e) {
      showError(errorText(e), "Could not load the projects");
    } finally {
      setLoading(false);
    }
  };

  /** Open `pid` (null: the start page). The open project's editor may hold clicks the server
   * lacks, which go with it: the user is asked first, unless `force` (its project is gone). */
  const choose = async (pid: string | null, force = false) => {
    if (pid === selectedId()) return;
    if (!force && !(await mayLeaveProject())) return;
    if (pid === selectedId()) return; // chosen meanwhile
    initialFrame = 0;
    setSelectedId(pid);
    // An entry of its own: Back returns to the project before (the frame only replaces it).
    history.pushState(null, "", formatHash(pid, 0));
  };

  let hashTimer: ReturnType<typeof setTimeout> | undefined;
  let shownFrame = 0; // the open project's frame, for its address
  const rememberFrame = (frame: number) => {
    shownFrame = frame;
    clearTimeout(hashTimer);
    hashTimer = setTimeout(() => history.replaceState(null, "", formatHash(selectedId(), frame)), 250);
  };

  const onHashChange = async () => {
    const h = parseHash(window.location.hash);
    if (h.pid !== selectedId()) {
      // Back, Forward or a typed link away from a project whose clicks wait: asked as a click
      // on another project is; staying puts its address back (Back then asks again).
      const open = selectedId();
      if (!(await mayLeaveProject())) {
        if (parseHash(window.location.hash).pid !== open) history.pushState(null, "", formatHash(open, shownFrame));
        return;
      }
      if (selectedId() !== open) return; // another project was opened meanwhile
      initialFrame = h.frame;
      // A project this list has not seen may be newer than it (made in another tab or by a
      // script): it is "missing" only once the server's list lacks it too.
      if (h.pid && !projectById(h.pid)) {
        setListed(false);
        void refresh();
      }
      setSelectedId(h.pid);
    } else if (h.pid) setFrameAsked({ frame: h.frame });
  };

  const loadHealth = () => api.health().then(setHealth);

  // An open editor watches the server itself (and saves what waited for it); without one, App
  // does, so the pill turns back and the list arrives once the server answers again.
  createEffect(() => {
    if (!selected()) watchConnection({ online, probe: loadHealth, onBack: () => void refresh() });
  });

  onMount(() => {
    void refresh();
    loadHealth().catch((e) => showError(errorText(e), "The server does not answer"));
    window.addEventListener("hashchange", onHashChange);
    window.addEventListener("popstate", onHashChange); // Back and Forward over pushed entries
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("focus", onVisible); // side by side, no window is ever hidden
  });
  onCleanup(() => {
    window.removeEventListener("hashchange", onHashChange);
    window.removeEventListener("popstate", onHashChange);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("focus", onVisible);
  });

  // A request about the open project found it gone: the list, re-read, then lacks it, and
  // the view says so instead of an editor whose every save fails.
  createEffect(on(projectGone, (pid) => pid !== null && pid === selectedId() && void refresh(), { defer: true }));

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
              <h1>{p().name}</h1>
              <span class="muted">{projectMeta(p()).join(" · ")}</span>
              <VideoNotes project={p()} testid="project-title-notes" />
            </div>
          )}
        </Show>
        <div class="grow" />
        <HealthPill health={health()?.device ? health() : null} />
      </header>
      <div class={`workspace ${selected() ? "" : "no-project"}`}>
        <ProjectsPanel
          projects={projects()}
          loading={loading()}
          selectedId={selected()}
          onSelect={choose}
          onChanged={(s) => void refresh(s)}
          onDeleted={(pid) => {
            // Its held clicks have nowhere to go: not asked.
            if (pid === selectedId()) void choose(null, true);
          }}
        />
        <Switch fallback={<Welcome />}>
          <Match when={selected()} keyed>
            {(pid) => <Editor project={projectById(pid) ?? projects()[0]} initialFrame={initialFrame} frameAsked={frameAsked()} onFrame={rememberFrame} />}
          </Match>
          <Match when={view() === "missing"}>
            <MissingProject onBack={() => void choose(null)} />
          </Match>
        </Switch>
      </div>
      <Toasts />
      <ConfirmHost />
      <SequenceFpsHost />
      <TokenPrompt />
    </div>
  );
}
