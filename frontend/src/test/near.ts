// Tests' clicks measured in stored pixels (the stage measures on screen; see FrameStage).
import type { Vec } from "../geometry";
import type { Near } from "../points";

/** Points within `radius` stored pixels of `at`. */
export function near(at: Vec, radius: number): Near {
  return { distance: (p) => Math.hypot(p.x - at.x, p.y - at.y), radius };
}
