// A stand-in for the XMLHttpRequest an upload goes by (fetch reports no upload progress): each
// try gets its progress and answer from the test's list, in turn.
import { vi } from "vitest";

/** What each try of an upload gets, in turn: its bytes sent up to `sent` of every one, then an
 * answer (a status and body), a dropped connection ("error") or a timeout. */
export type Try = { sent: number; answer: { status: number; body: unknown } | "error" | "timeout" };

/** A stand-in for XMLHttpRequest that plays `tries` to the uploads the test makes, recording
 * each one's headers. */
export function fakeXhr(tries: Try[]) {
  const sent: Record<string, string>[] = [];
  class FakeXhr {
    upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
    status = 0;
    statusText = "";
    responseText = "";
    responseType = "";
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    ontimeout: (() => void) | null = null;
    onabort: (() => void) | null = null;
    private headers: Record<string, string> = {};
    open(method: string, url: string) {
      if (method !== "POST" || url !== "/api/projects") throw new Error(`unexpected ${method} ${url}`);
    }
    setRequestHeader(name: string, value: string) {
      this.headers[name] = value;
    }
    send(form: FormData) {
      sent.push(this.headers);
      const total = (form.get("file") as File).size;
      const t = tries.shift()!;
      queueMicrotask(() => {
        this.upload.onprogress?.({ lengthComputable: true, loaded: Math.round(t.sent * total), total });
        if (t.answer === "error") return this.onerror?.();
        if (t.answer === "timeout") return this.ontimeout?.();
        this.status = t.answer.status;
        this.responseText = JSON.stringify(t.answer.body);
        this.onload?.();
      });
    }
    abort() {
      this.onabort?.();
    }
  }
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
  return sent;
}
