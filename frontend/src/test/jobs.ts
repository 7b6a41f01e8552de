// Objects and a finished job of them, as the API sends them: the components' tests start here.
import type { Job, MatteObject } from "../api";

export const objects: MatteObject[] = [
  { id: 1, project_id: "p", name: "Dancer", color: "#ff5a5f" },
  { id: 2, project_id: "p", name: "Dog", color: "#3ba4ff" },
];

/** Job "j1" of both objects, done over frames 0..9; `over` changes any of it. */
export function job(over: Partial<Job> = {}): Job {
  return {
    id: "j1",
    project_id: "p",
    status: "done",
    start: 0,
    end: 9,
    object_ids: [1, 2],
    frames_done: 10,
    frames_total: 10,
    fps: 2,
    eta_seconds: null,
    error: null,
    created_at: "2026-11-30T08:00:00Z",
    updated_at: "2026-11-30T08:00:00Z",
    ...over,
  };
}
