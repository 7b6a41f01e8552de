// A stand-in for the browser's EventSource (jsdom has none): tests push events and errors.
export class FakeEventSource {
  static last: FakeEventSource | null = null;
  listeners = new Map<string, (ev: MessageEvent) => void>();
  onerror: (() => void) | null = null;
  closed = false;
  constructor(public url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, fn: (ev: MessageEvent) => void) {
    this.listeners.set(type, fn);
  }
  emit(data: string, type = "progress") {
    this.listeners.get(type)?.({ data } as MessageEvent);
  }
  close() {
    this.closed = true;
  }
}
