/**
 * What the banner and hostkey phases share of the key exchange that
 * keyExchange.ts starts the moment the TCP connection is up. OpenSSH sends
 * its own identification line and KEXINIT without waiting for the server's
 * (kex.c, kex_exchange_identification), and sshd sends its KEXINIT only once
 * it has read the client's line; waiting for the server's banner before
 * starting ssh2 cost one more one-way trip before the key exchange could
 * begin (~40 ms to the verified host key at 20 ms one way, ~65 ms at 50 ms).
 * The banner phase watches the same bytes ssh2 reads; the hostkey phase waits
 * for the verdict on the key the server presents.
 */
import type { SshSession } from "./sshSession";
import { printable } from "../../core/text";

/** A key exchange under way: the session, the verdict on the host key, and what each side offered. */
export interface Handshake {
  readonly ssh: SshSession;
  readonly hostKey: HostKeyVerdict;
  readonly offered: OfferedAlgorithms;
}

/**
 * The verdict on the host key the server presents: passed when it matches
 * the pin, refused with the reason when not. The verifier gives it while
 * ssh2 waits; a refusal reaches the listener before the error ssh2 raises
 * for it, so the phase reports the reason, not ssh2's generic failure.
 */
export class HostKeyVerdict {
  private outcome: { refusal?: Error } | undefined;
  private listener: { passed(): void; refused(err: Error): void } | undefined;

  /** The verdict, once given: no refusal means the key passed. */
  get given(): { readonly refusal?: Error } | undefined {
    return this.outcome;
  }

  /** Calls one of the two once the verdict is given, at once if it already has been. */
  whenGiven(passed: () => void, refused: (err: Error) => void): void {
    this.listener = { passed, refused };
    if (this.outcome) this.tell();
  }

  pass(): void {
    this.give({});
  }

  refuse(err: Error): void {
    this.give({ refusal: err });
  }

  /** Only the first verdict counts. */
  private give(outcome: { refusal?: Error }): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.tell();
  }

  private tell(): void {
    const { outcome, listener } = this;
    if (!outcome || !listener) return;
    if (outcome.refusal) listener.refused(outcome.refusal);
    else listener.passed();
  }
}

/**
 * What each side offered in the key exchange, per category, read from ssh2's
 * handshake debug lines ("Handshake: (local) KEX method: a,b", "(remote) ...";
 * ssh2 lib/protocol/kex.js), which it writes for every category before it
 * looks for a match. Only the first key exchange is read.
 */
export class OfferedAlgorithms {
  private readonly lists = new Map<string, { local?: string[]; remote?: string[] }>();
  private done = false;
  readonly debug = (line: string): void => {
    if (this.done) return;
    const m = /^Handshake: \((local|remote)\) (.+?): (.*)$/.exec(line);
    if (!m) return;
    const entry = this.lists.get(m[2]!) ?? {};
    entry[m[1] === "local" ? "local" : "remote"] = m[3]!.split(",").filter(Boolean);
    this.lists.set(m[2]!, entry);
  };
  /** The key exchange is over (the host key was presented): nothing more to read. */
  finish(): void {
    this.done = true;
  }
  /** "C->S cipher: this client offered x, y; the server offered z" for each category the two sides share nothing in. */
  unmatched(): string | undefined {
    const out: string[] = [];
    for (const [category, { local, remote }] of this.lists) {
      if (!local || !remote || local.some((a) => remote.includes(a))) continue;
      out.push(
        `${category}: this client offered ${printable(local.join(", "))}; the server offered ${printable(remote.join(", ") || "(nothing)")}`,
      );
    }
    return out.length > 0 ? out.join("; ") : undefined;
  }
}
