import { createRoot, createSignal } from "solid-js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { retryDelay, watchConnection } from "./connection";

describe("connection watch", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("waits longer between probes, up to a limit", () => {
    expect([0, 1, 2, 3, 10].map((a) => retryDelay(a, 1000, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it("probes while the server is away and runs what waited once it answers", async () => {
    let serverUp = false;
    let probes = 0;
    const back = vi.fn();
    const s = createRoot((dispose) => {
      const [online, setOnline] = createSignal(true);
      watchConnection({
        online,
        probe: async () => {
          probes++;
          setOnline(serverUp);
          if (!serverUp) throw new Error("Cannot reach the server.");
        },
        onBack: back,
        retryMs: 100,
        maxRetryMs: 400,
        heartbeatMs: 10_000,
      });
      return { setOnline, dispose };
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(back).not.toHaveBeenCalled(); // online from the start: nothing came back
    s.setOnline(false); // a request failed
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    expect(probes).toBe(3);
    serverUp = true;
    await vi.advanceTimersByTimeAsync(400);
    expect(probes).toBe(4);
    expect(back).toHaveBeenCalledOnce();
    s.dispose();
  });

  it("notices with its heartbeat a server that died while nobody asked", async () => {
    const s = createRoot((dispose) => {
      const [online, setOnline] = createSignal(true);
      watchConnection({ online, probe: async () => setOnline(false), onBack: () => {}, heartbeatMs: 5000 });
      return { online, dispose };
    });
    await vi.advanceTimersByTimeAsync(4900);
    expect(s.online()).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.online()).toBe(false);
    s.dispose();
  });
});
