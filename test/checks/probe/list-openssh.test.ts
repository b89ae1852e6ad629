/**
 * The list phase against the real OpenSSH sshd (internal-sftp): how few round
 * trips it takes (REALPATH and OPENDIR together, READDIRs two at a time, the
 * CLOSE not waited for), and that a folder longer than one READDIR batch is
 * read to its end. The round trips are counted as requests in flight, never
 * timed.
 */
import { readFileSync } from "node:fs";
import { Client, type SFTPWrapper } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PhaseError } from "../../../checks/download";
import type { PhaseContext, PhaseOptions } from "../../../checks/probe/phase";
import { list } from "../../../checks/probe/phases/list";
import type { SshSession } from "../../../checks/probe/sshSession";
import { startOpenSsh, type OpenSshServer } from "../../support/sshd";
import { newUserKey, payload, tempDir } from "../../support/facility";

/** 250 reports: OpenSSH's sftp-server sends at most 100 names per READDIR, so three batches. */
const MANY = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`R${String(i).padStart(3, "0")}`, payload(10 + i, i)]));

interface Journal {
  /** Requests sent and answers received, in order ("→ REALPATH", "← REALPATH"). */
  readonly events: string[];
  /** The most requests that were ever in flight at once. */
  maxInFlight: number;
}

/** The session with its requests journaled; every call still goes to the real one. */
function journaled(real: SFTPWrapper, journal: Journal): SFTPWrapper {
  let inFlight = 0;
  const wrap =
    (name: string) =>
    (...args: unknown[]) => {
      const cb = args.pop() as (...r: unknown[]) => void;
      journal.events.push(`→ ${name}`);
      journal.maxInFlight = Math.max(journal.maxInFlight, ++inFlight);
      return (Reflect.get(real, name.toLowerCase(), real) as (...a: unknown[]) => unknown).call(real, ...args, (...r: unknown[]) => {
        inFlight--;
        journal.events.push(`← ${name}`);
        cb(...r);
      });
    };
  const methods: Record<string, unknown> = {
    realpath: wrap("REALPATH"),
    opendir: wrap("OPENDIR"),
    readdir: wrap("READDIR"),
    close: wrap("CLOSE"),
    stat: wrap("STAT"),
    readlink: wrap("READLINK"),
  };
  return new Proxy(real, {
    get: (target, prop) => (typeof prop === "string" && prop in methods ? methods[prop] : Reflect.get(target, prop, target)),
  });
}

describe("list against real OpenSSH", () => {
  const dir = tempDir("list-openssh");
  let server: OpenSshServer;
  let client: Client;
  let sftp: SFTPWrapper;

  beforeAll(async () => {
    const key = newUserKey(dir);
    server = await startOpenSsh({ authorizedKeys: [key.publicLine], files: { ...MANY, TP001: payload(48 * 1024, 1) } });
    client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve).once("error", reject);
      client.connect({ host: server.host, port: server.port, username: server.user, privateKey: readFileSync(key.privatePath) });
    });
    sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
  });
  afterAll(async () => {
    client?.end();
    await server?.stop();
  });

  /** Runs the list phase alone over the journaled session. */
  async function runList(files: string[], remoteDir = server.remoteDir) {
    const journal: Journal = { events: [], maxInFlight: 0 };
    const ssh = { wait: <T>(register: (ok: (v: T) => void, fail: (e: Error) => void) => void) => new Promise<T>(register) };
    const ctx = {
      opts: { remoteDir, files } as unknown as PhaseOptions,
      evidence: { downloads: [] },
      sshError: (err: unknown) => new PhaseError("error", String(err)),
    } as unknown as PhaseContext;
    const out = await list.run({ ssh: ssh as unknown as SshSession, sftp: journaled(sftp, journal) }, ctx);
    return { out, journal, listing: ctx.evidence.listing };
  }

  it("sends REALPATH and OPENDIR together, and READDIRs two at a time", async () => {
    const { out, journal } = await runList(["TP001"]);
    expect(out.files.map((f) => f.name)).toEqual(["TP001"]);
    const e = journal.events;
    // Both left before either was answered: one round trip for the two.
    expect(e.slice(0, 2)).toEqual(["→ REALPATH", "→ OPENDIR"]);
    // Every READDIR left beside another, before the first of the pair was answered.
    const readdirs = e.flatMap((x, i) => (x === "→ READDIR" ? [i] : []));
    expect(readdirs.length % 2).toBe(0);
    for (let k = 0; k < readdirs.length; k += 2) expect(readdirs[k + 1]).toBe(readdirs[k]! + 1);
    // 251 names: three batches of at most 100 and the end, so two pairs.
    expect(readdirs).toHaveLength(4);
    // The CLOSE is sent, not waited for: the phase is over before it is answered.
    expect(e).toContain("→ CLOSE");
    expect(e).not.toContain("← CLOSE");
    expect(out.roundTripMs).toBeGreaterThan(0);
  });

  it("reads a folder longer than one READDIR batch to its end", async () => {
    const { out, listing } = await runList(["R24[0-9]", "R000"]);
    expect(out.files.map((f) => f.name)).toEqual(["R240", "R241", "R242", "R243", "R244", "R245", "R246", "R247", "R248", "R249", "R000"]);
    expect(out.files.find((f) => f.name === "R249")?.size).toBe(10 + 249);
    // The report keeps the first 200 names of the 251.
    expect(listing).toHaveLength(200);
  });

  it("a missing folder still fails with folder-missing", async () => {
    await expect(runList(["TP001"], "/nonexistent/reports")).rejects.toMatchObject({
      code: "folder-missing",
      message: 'remote folder "/nonexistent/reports" does not exist',
    });
  });
});
