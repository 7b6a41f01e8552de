import { describe, expect, it } from "vitest";
import { NO_EDGE } from "./exportChoice";
import { objectAlphaUrl } from "./resultView";

describe("objectAlphaUrl", () => {
  it("asks for one object's matte at the stage's size, or full size", () => {
    expect(objectAlphaUrl("j1", 3, 2, 640)).toBe("/api/jobs/j1/alpha/3?max_side=640&object_id=2");
    expect(objectAlphaUrl("j1", 3, 2)).toBe("/api/jobs/j1/alpha/3?object_id=2");
  });

  it("asks for the matte with the edge adjustment chosen for the job's export", () => {
    expect(objectAlphaUrl("j1", 3, 2, 640, { ...NO_EDGE, shiftEdge: 2, feather: 0.5 })).toBe("/api/jobs/j1/alpha/3?max_side=640&shift_edge=2&feather=0.5&object_id=2");
    expect(objectAlphaUrl("j1", 3, 2, 0, NO_EDGE)).toBe("/api/jobs/j1/alpha/3?object_id=2");
    expect(objectAlphaUrl("j1", 3, 2, 0, { ...NO_EDGE, reduceChatter: true })).toBe("/api/jobs/j1/alpha/3?reduce_chatter=true&object_id=2");
  });
});
