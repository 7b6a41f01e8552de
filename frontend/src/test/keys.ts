// A stand-in for the fetch an upload's retry asks its Idempotency-Key's answer with (GET
// /api/idempotency-keys/{key}), before it sends the file again.
import { vi } from "vitest";

/** What each ask gets, in turn: an answer (a status and body), a dropped connection ("error"),
 * or none until it is aborted ("hang"). Once the list is spent: 404, the key has no answer. */
export type Ask = { status: number; body: unknown } | "error" | "hang";

export const NO_ANSWER: Ask = { status: 404, body: { detail: "Idempotency-Key 'k' has no answer kept" } };

/** The answer kept for an upload that made `project` (GET /api/idempotency-keys/{key}'s 200). */
export function answered(project: unknown, key = "k"): Ask {
  return { status: 200, body: { key, route: "POST /api/projects", status: 201, body: project } };
}

/** Stubs fetch to play `asks`; returns the method and URL of each request, in turn. */
export function fakeKeyAnswers(asks: Ask[]): string[] {
  const seen: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      seen.push(`${init?.method ?? "GET"} ${url}`);
      const ask = asks.shift() ?? NO_ANSWER;
      if (ask === "error") throw new TypeError("Failed to fetch");
      if (ask === "hang") {
        return new Promise<Response>((_, reject) => {
          const signal = init?.signal;
          signal?.addEventListener("abort", () => reject(signal.reason ?? new DOMException("aborted", "AbortError")), { once: true });
        });
      }
      return new Response(JSON.stringify(ask.body), { status: ask.status });
    }),
  );
  return seen;
}
