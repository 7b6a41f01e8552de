import { render, screen } from "@solidjs/testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { setOnline, type Job } from "../api";
import { JobProgressBar, StatusBadge } from "./ProgressBar";

const job = (over: Partial<Job> = {}): Job => ({
  id: "j_4f9a2c",
  project_id: "p",
  status: "running",
  start: 0,
  end: 99,
  object_ids: [1],
  frames_done: 10,
  frames_total: 100,
  fps: 2,
  eta_seconds: 45,
  error: null,
  created_at: "",
  updated_at: "",
  ...over,
});

describe("job status while the server is away", () => {
  afterEach(() => setOnline(true));

  it("a running job says connection lost, not RUNNING with an ETA", () => {
    setOnline(false);
    render(() => (
      <>
        <StatusBadge status="running" testid="badge" />
        <JobProgressBar job={job()} testid="bar" />
      </>
    ));
    expect(screen.getByTestId("badge").textContent).toBe("connection lost");
    expect(screen.getByTestId("badge").getAttribute("data-status")).toBe("running");
    expect(screen.getByTestId("bar-eta").textContent).toBe("connection lost");
    setOnline(true);
    expect(screen.getByTestId("badge").textContent).toBe("running");
    expect(screen.getByTestId("bar-eta").textContent).toBe("ETA 45 s");
  });

  it("a finished job keeps its status", () => {
    setOnline(false);
    render(() => <StatusBadge status="done" testid="badge" />);
    expect(screen.getByTestId("badge").textContent).toBe("done");
  });

  it("a new job says starting… before its first frame", () => {
    render(() => <JobProgressBar job={job({ status: "queued", frames_done: 0, fps: null, eta_seconds: null })} testid="bar" />);
    expect(screen.getByTestId("bar-eta").textContent).toBe("starting…");
  });
});
