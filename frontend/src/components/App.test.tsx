import { fireEvent, render, screen } from "@solidjs/testing-library";
import { createRoot } from "solid-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setOnline, type Health, type Project } from "../api";
import { pendingConfirm } from "../confirm";
import { useProjectLeaveGuard } from "../leaveGuard";
import { App, mainView, parseHash } from "./App";
import { HealthPill } from "./HealthPill";
import { MissingProject } from "./Welcome";

const health: Health = { status: "ok", device: "cpu", sam2_model: "test-tiny", sam2_test_model: true, matting_head: "head-v1", version: "0.1.0", max_points_per_frame: 50 };

describe("top bar health pill", () => {
  afterEach(() => setOnline(true));

  it("says the connection is lost while the server does not answer, and turns back when it does", () => {
    render(() => <HealthPill health={health} />);
    const pill = () => screen.getByTestId("health");
    expect(pill().textContent).toBe("CPU · SAM2 test-tiny (test model)");
    expect(pill().dataset.online).toBe("true");
    expect(pill().classList.contains("pill-error")).toBe(false);

    setOnline(false); // a request could not reach the server
    expect(pill().textContent).toBe("offline — reconnecting…");
    expect(pill().dataset.online).toBe("false");
    expect(pill().classList.contains("pill-error")).toBe(true);
    expect(pill().querySelector(".dot-offline")).not.toBeNull();

    setOnline(true); // its next answer
    expect(pill().textContent).toBe("CPU · SAM2 test-tiny (test model)");
    expect(pill().dataset.online).toBe("true");
  });

  it("shows the lost connection even before the server ever answered, and nothing while merely unknown", () => {
    render(() => <HealthPill health={null} />);
    expect(screen.queryByTestId("health")).toBeNull(); // e.g. waiting for the token: not an outage
    setOnline(false);
    expect(screen.getByTestId("health").textContent).toBe("offline — reconnecting…");
  });
});

describe("a URL naming a project the server does not have", () => {
  it("is 'missing' once the list arrived, never before", () => {
    expect(mainView("p_dead", ["p_1", "p_2"])).toBe("missing");
    expect(mainView("p_dead", [])).toBe("missing");
    expect(mainView("p_dead", null)).toBe("welcome"); // list not loaded yet (or the server is away)
    expect(mainView("p_1", ["p_1", "p_2"])).toBe("editor");
    expect(mainView(null, ["p_1"])).toBe("welcome");
    expect(mainView(null, null)).toBe("welcome");
  });

  it("a link whose id is not valid percent-encoding names a project the server lacks, not a crash", () => {
    expect(parseHash("#/p/p_1%20a?f=4")).toEqual({ pid: "p_1 a", frame: 4 });
    const bad = parseHash("#/p/%E0%A4%A?f=3"); // cut off mid-character, as a mangled link is
    expect(bad).toEqual({ pid: "%E0%A4%A", frame: 3 });
    expect(mainView(bad.pid, ["p_1"])).toBe("missing");
  });

  it("says so plainly and leads back to the start page", () => {
    const onBack = vi.fn();
    render(() => <MissingProject onBack={onBack} />);
    const card = screen.getByTestId("project-missing");
    expect(card.textContent).toContain("This project no longer exists");
    expect(card.textContent).toContain("It was deleted, or the link is wrong.");
    expect(screen.getByRole("alert")).toBe(card.querySelector(".welcome-card"));
    fireEvent.click(screen.getByTestId("project-missing-back"));
    expect(onBack).toHaveBeenCalledOnce();
  });
});

describe("the project list", () => {
  afterEach(() => vi.unstubAllGlobals());

  const project = (id: string): Project => ({
    id,
    name: id,
    filename: `${id}.mp4`,
    created_at: "2026-12-01T00:00:00Z",
    video: { width: 320, height: 180, fps: 25, frame_count: 10, duration: 0.4, rotation: 0, codec: "h264", has_audio: false, pixel_aspect: 1 },
    has_track: false,
  });

  it("is never put back by a read answered after a later one (a project added or deleted since)", async () => {
    const lists: ((r: Response) => void)[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string) =>
        url === "/api/projects" ? new Promise<Response>((r) => lists.push(r)) : Promise.resolve(new Response(JSON.stringify(health), { status: 200 })),
      ),
    );
    render(() => <App />);
    await vi.waitFor(() => expect(lists).toHaveLength(1));
    window.dispatchEvent(new Event("focus")); // the window clicked into: the list read again
    await vi.waitFor(() => expect(lists).toHaveLength(2));
    lists[1](new Response(JSON.stringify([project("p_new"), project("p_1")]), { status: 200 }));
    await vi.waitFor(() => expect(screen.getAllByTestId("project-item")).toHaveLength(2));
    lists[0](new Response(JSON.stringify([project("p_1")]), { status: 200 })); // asked first, answered last
    await new Promise((r) => setTimeout(r, 10));
    expect(screen.getAllByTestId("project-item").map((e) => e.dataset.projectId)).toEqual(["p_new", "p_1"]);
  });

  it("asks before the open project is left while its clicks wait for the server, and stays when told to (a click, Back)", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => new Response(JSON.stringify(url === "/api/projects" ? [project("p_1"), project("p_2")] : url === "/api/health" ? health : []), { status: 200 })),
    );
    history.replaceState(null, "", "#/");
    let held = true;
    // What the open editor registers: its clicks held for the server.
    const guard = createRoot((dispose) => (useProjectLeaveGuard(() => held), dispose));
    render(() => <App />);
    await vi.waitFor(() => expect(screen.getAllByTestId("project-open")).toHaveLength(2));
    fireEvent.click(screen.getAllByTestId("project-open")[0]);
    await vi.waitFor(() => expect(pendingConfirm()?.title).toBe("Leave with unsaved clicks?"));
    pendingConfirm()!.resolve(false);
    await new Promise((r) => setTimeout(r, 0));
    expect([window.location.hash, screen.queryByTestId("editor")]).toEqual(["#/", null]);
    // Back or a typed link to another project: asked too, and the address put back.
    window.location.hash = "#/p/p_2";
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    await vi.waitFor(() => expect(pendingConfirm()).not.toBeNull());
    pendingConfirm()!.resolve(false);
    await vi.waitFor(() => expect(window.location.hash).toBe("#/"));
    expect(screen.queryByTestId("project-title")).toBeNull();
    // Back fires popstate and hashchange: one question, and leaving opens the project linked.
    const asked: string[] = [];
    window.location.hash = "#/p/p_2";
    window.dispatchEvent(new PopStateEvent("popstate"));
    await vi.waitFor(() => expect(pendingConfirm()).not.toBeNull());
    asked.push(pendingConfirm()!.title);
    await new Promise((r) => setTimeout(r, 10)); // the hashchange that follows
    pendingConfirm()!.resolve(true);
    await vi.waitFor(() => expect(screen.queryByTestId("project-title")?.textContent).toContain("p_2"));
    await new Promise((r) => setTimeout(r, 10));
    expect([asked.length, pendingConfirm(), window.location.hash]).toEqual([1, null, "#/p/p_2"]);
    fireEvent.click(screen.getAllByTestId("project-open")[0]);
    await vi.waitFor(() => expect(pendingConfirm()).not.toBeNull());
    pendingConfirm()!.resolve(true);
    await vi.waitFor(() => expect(window.location.hash).toBe("#/p/p_1"));
    // Nothing held: the project opens without a question.
    held = false;
    fireEvent.click(screen.getAllByTestId("project-open")[1]);
    await vi.waitFor(() => expect(window.location.hash).toBe("#/p/p_2"));
    expect(pendingConfirm()).toBeNull();
    expect(screen.getByTestId("project-title").textContent).toContain("p_2");
    guard();
    history.replaceState(null, "", "#/");
  });
});
