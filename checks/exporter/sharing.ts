/**
 * Scrapes of the same target share one probe in flight, and the work the
 * exporter takes on is bounded: at most `maxRunning` probes at once, at most
 * `maxQueued` distinct probes waiting for a place, at most `maxWaiters`
 * scrapes attached to one probe. Past those limits a request is refused at
 * once (the server answers 503 or 429) instead of piling up sockets and
 * memory. A probe nobody waits for any more is aborted, so scrapes that gave
 * up do not keep the facility busy.
 */

export type Refusal = "queue-full" | "too-many-waiters";

export interface SharingLimits {
  readonly maxRunning: number;
  readonly maxQueued: number;
  readonly maxWaiters: number;
}

export const DEFAULT_SHARING_LIMITS: SharingLimits = Object.freeze({ maxRunning: 4, maxQueued: 8, maxWaiters: 32 });

/** The probe of one key: started with the signal that aborts it and the instant it must be done by. */
export type ProbeStart<T> = (signal: AbortSignal, deadlineAt: number | undefined) => Promise<T>;

export interface Attached<T> {
  /** "started": this request started (or queued) the probe; "shared": it joined one. */
  readonly how: "started" | "shared";
  readonly result: Promise<T>;
  /** The scrape went away: detach; the last one to go aborts the probe. */
  detach(): void;
}

/** A queued probe whose scrape deadline passed before a place came free. */
export class QueueDeadlineError extends Error {
  constructor() {
    super("the scrape's deadline passed while the probe waited for a free place");
    this.name = "QueueDeadlineError";
  }
}

interface Entry<T> {
  readonly key: string;
  state: "queued" | "running";
  waiters: number;
  readonly controller: AbortController;
  readonly start: ProbeStart<T>;
  readonly deadlineAt: number | undefined;
  readonly result: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export class SharedProbes<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly queue: Entry<T>[] = [];
  private runningCount = 0;

  constructor(private readonly limits: SharingLimits = DEFAULT_SHARING_LIMITS) {}

  get running(): number {
    return this.runningCount;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Attaches to the probe of `key`, starting or queueing it if there is none; or says why not. */
  attach(key: string, start: ProbeStart<T>, deadlineAt: number | undefined): Attached<T> | Refusal {
    const existing = this.entries.get(key);
    if (existing) {
      if (existing.waiters >= this.limits.maxWaiters) return "too-many-waiters";
      existing.waiters++;
      return this.handle(existing, "shared");
    }
    const canRun = this.runningCount < this.limits.maxRunning;
    if (!canRun && this.queue.length >= this.limits.maxQueued) return "queue-full";
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A probe whose every scrape left is still settled; nobody may be listening.
    result.catch(() => undefined);
    const entry: Entry<T> = {
      key,
      state: "queued",
      waiters: 1,
      controller: new AbortController(),
      start,
      deadlineAt,
      result,
      resolve,
      reject,
    };
    this.entries.set(key, entry);
    if (canRun) this.run(entry);
    else this.queue.push(entry);
    return this.handle(entry, "started");
  }

  /** Aborts everything running and refuses what is queued (shutdown). */
  abortAll(reason: string): void {
    for (const e of this.queue.splice(0)) {
      this.entries.delete(e.key);
      e.reject(new Error(reason));
    }
    for (const e of this.entries.values()) e.controller.abort(reason);
  }

  private handle(entry: Entry<T>, how: Attached<T>["how"]): Attached<T> {
    let detached = false;
    return {
      how,
      result: entry.result,
      detach: () => {
        if (detached) return;
        detached = true;
        entry.waiters--;
        if (entry.waiters > 0) return;
        // Nobody is waiting: a later scrape of the same target starts afresh.
        if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
        if (entry.state === "queued") {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          entry.reject(new Error("no scrape is waiting for this probe any more"));
        } else entry.controller.abort("no scrape is waiting for this probe any more");
      },
    };
  }

  private run(entry: Entry<T>): void {
    entry.state = "running";
    this.runningCount++;
    let work: Promise<T>;
    try {
      work = entry.start(entry.controller.signal, entry.deadlineAt);
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(entry.resolve, entry.reject).finally(() => {
      this.runningCount--;
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      this.next();
    });
  }

  private next(): void {
    while (this.runningCount < this.limits.maxRunning && this.queue.length > 0) {
      const entry = this.queue.shift()!;
      if (entry.deadlineAt !== undefined && Date.now() >= entry.deadlineAt) {
        if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
        entry.reject(new QueueDeadlineError());
        continue;
      }
      this.run(entry);
    }
  }
}
