/**
 * The ssh2 client of one probe, with its errors routed to whichever phase is
 * waiting on it. ssh2 may report an error (or a bare close) between two
 * phases; it is kept, and the next phase to wait fails with it at once.
 */
import { Client } from "ssh2";

export class SshSession {
  readonly client = new Client();
  /** Settles when ssh2 reports the login done. */
  readonly ready: Promise<void>;
  private pending: Error | undefined;
  private waiter: ((err: Error) => void) | undefined;
  private readonly watchers = new Set<(err: Error) => void>();
  private endingCleanly = false;

  constructor() {
    this.client.on("error", (err) => this.report(err));
    // ssh2 reports a close after the identification line as a plain close, not an error.
    this.client.on("close", () => {
      if (this.endingCleanly) return;
      this.report(Object.assign(new Error("connection closed"), { level: "client-socket" }), { keepFirst: true });
    });
    this.ready = new Promise<void>((resolve) => this.client.once("ready", () => resolve()));
  }

  /** The error ssh2 reported while nobody waited, if any. */
  get pendingError(): Error | undefined {
    return this.pending;
  }

  /**
   * Waits for what `register` starts; rejects with the first ssh2 error
   * reported before or while waiting.
   */
  wait<T>(register: (ok: (value: T) => void, fail: (err: Error) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending) return reject(this.pending);
      this.waiter = reject;
      register(resolve, reject);
    }).finally(() => {
      this.waiter = undefined;
    });
  }

  /**
   * Calls `listener` once with the first error ssh2 reports from now on, or at
   * once with one already reported. Returns the function that stops watching.
   */
  onFailure(listener: (err: Error) => void): () => void {
    if (this.pending) {
      listener(this.pending);
      return () => undefined;
    }
    const once = (err: Error) => {
      this.watchers.delete(once);
      listener(err);
    };
    this.watchers.add(once);
    return () => this.watchers.delete(once);
  }

  /** Ends the session as a client logging out does; resolves once the server has closed it. */
  end(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.endingCleanly = true;
      this.client.once("close", () => resolve());
      this.client.end();
    });
  }

  destroy(): void {
    this.client.removeAllListeners("ready");
    this.client.destroy();
  }

  private report(err: Error, how: { keepFirst?: boolean } = {}): void {
    if (how.keepFirst) this.pending ??= err;
    else this.pending = err;
    this.waiter?.(err);
    for (const watcher of [...this.watchers]) watcher(err);
  }
}
