/** Every fault switch of the simulator gives the exact phase and cause, within its timeout. */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_NAMES, startSimulator, type Fault, type RunningSimulator } from "../../checks/simulator";
import type { PhaseEvent } from "../../checks/probe";
import { runSites } from "../../checks/run";
import type { CauseCode, PhaseName } from "../../checks/report";
import { newUserKey, simulatorContext, tempDir, type TestKey } from "../support/facility";

// Generous enough that a healthy phase never times out on a loaded 2-core machine; the faults that need a timeout wait this long.
const TIMEOUTS = { connectMs: 1000, handshakeMs: 2000, operationMs: 2000, transferMs: 4000 };
/** The timeout each phase runs under (README "Phases"). */
const PHASE_TIMEOUT: Record<PhaseName, number> = {
  tcp: TIMEOUTS.connectMs,
  banner: TIMEOUTS.handshakeMs,
  hostkey: TIMEOUTS.handshakeMs,
  auth: TIMEOUTS.handshakeMs,
  sftp: TIMEOUTS.operationMs,
  list: TIMEOUTS.operationMs,
  download: TIMEOUTS.transferMs,
  logout: TIMEOUTS.operationMs,
};
/** A phase's own timeout, the probe's 2 s cleanup grace after an abort, and slack for a loaded CI machine: a hang exceeds it. */
const HANG_BOUND_MS = 2000 + 3000;

const EXPECTED: Record<Fault, { phase: PhaseName; code: CauseCode; cause: RegExp; files?: string[] }> = {
  down: { phase: "tcp", code: "refused", cause: /connection refused by 127\.0\.151\.141:\d+/ },
  refuse: { phase: "banner", code: "connection-closed", cause: /connection reset by 127\.0\.151\.141:\d+/ },
  silent: { phase: "banner", code: "no-banner", cause: /no SSH banner within 2000 ms/ },
  blackhole: {
    phase: "tcp",
    code: "timeout",
    cause: /no answer to TCP connect within 1000 ms: packets to 127\.0\.151\.141:\d+ are dropped or filtered/,
  },
  "non-ssh-banner": { phase: "banner", code: "not-ssh", cause: /sent "HTTP\/1\.1 400 Bad Request" and closed: not an SSH server/ },
  "close-during-kex": { phase: "hostkey", code: "connection-closed", cause: /connection closed by the server during key exchange/ },
  "no-common-algorithm": { phase: "hostkey", code: "no-common-algorithm", cause: /key exchange failed: .*no matching/i },
  "hostkey-changed": {
    phase: "hostkey",
    code: "hostkey-mismatch",
    cause: /host key mismatch: 127\.0\.151\.141:\d+ presented SHA256:\S+, pinned SHA256:/,
  },
  "reject-auth": { phase: "auth", code: "auth-rejected", cause: /server rejected publickey login for user "CP0001" with key SHA256:/ },
  "sftp-refused": { phase: "sftp", code: "sftp-refused", cause: /the server refused the SFTP subsystem/ },
  "folder-missing": { phase: "list", code: "folder-missing", cause: /remote folder "\." does not exist/ },
  "file-missing": { phase: "list", code: "file-missing", cause: /"TP002" not found in remote folder/ },
  "permission-denied": { phase: "download", code: "permission-denied", cause: /TP001: permission denied/ },
  "drop-mid-transfer": { phase: "download", code: "connection-lost", cause: /^TP001: connection lost mid-transfer/ },
  "stall-mid-transfer": { phase: "download", code: "transfer-timeout", cause: /download timed out after 4000 ms/ },
  "grow-during-download": { phase: "download", code: "size-mismatch", cause: /TP001: the file grew during the download/ },
  "symlink-escape": {
    phase: "list",
    code: "symlink-escape",
    cause: /"TP003" is a symlink leading out of the remote folder .*not followed/,
    files: ["TP003"],
  },
};

describe("simulator fault switches", () => {
  const dir = tempDir("faults");
  let key: TestKey;
  let sim: RunningSimulator;

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  function context(files: string[], downloadDir: string) {
    return simulatorContext(dir, sim, key, { files, downloadDir, timeouts: TIMEOUTS });
  }

  it("covers every fault the simulator has", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...FAULT_NAMES].sort());
  });

  for (const fault of FAULT_NAMES) {
    it(`${fault}: fails ${EXPECTED[fault].phase} with ${EXPECTED[fault].code}`, async () => {
      const want = EXPECTED[fault];
      await sim.setFault("10.151.14.141", fault);
      try {
        const downloadDir = `./dl-${fault}`;
        const run = await runSites(context(want.files ?? ["TP001", "TP002"], downloadDir), ["primary"], { download: true });
        const e = run.endpoints[0]!;
        const failed = e.phases.filter((p) => p.status === "fail");
        // An accept-then-reset races the connect event: the reset lands in tcp or in banner.
        const phase = fault === "refuse" && failed[0]?.name === "tcp" ? "tcp" : want.phase;
        expect(failed[0]).toMatchObject({ name: phase, code: want.code });
        expect(failed[0]!.cause).toMatch(want.cause);
        expect(e.verdict).toBe("fail");
        // Within its own timeout: the phase records the timeout that applied, and never ran far past it.
        expect(failed[0]!.timeoutMs).toBe(PHASE_TIMEOUT[phase]);
        expect(failed[0]!.ms).toBeLessThanOrEqual(PHASE_TIMEOUT[phase] + HANG_BOUND_MS);
        for (const p of e.phases) if (p.status !== "skip") expect(p.ms).toBeLessThanOrEqual(PHASE_TIMEOUT[p.name] + HANG_BOUND_MS);
        // Phases before the failure passed; none after it passed (logout may still run cleanly after list/download).
        const idx = e.phases.findIndex((p) => p.name === phase);
        expect(e.phases.slice(0, idx).every((p) => p.status === "pass")).toBe(true);
        for (const p of e.phases.slice(idx + 1)) {
          if (p.name !== "logout") expect(p.status).toBe("skip");
        }
        if (["tcp", "banner", "hostkey", "auth"].includes(phase)) expect(e.phases.at(-1)!.status).toBe("skip");
        expect(run.downloads.filter((d) => d.file === "TP001" && want.phase !== "download" && want.phase !== "list")).toEqual([]);
        // Nothing partial is left behind under any name.
        const folder = join(dir, downloadDir.slice(2));
        if (existsSync(folder)) {
          const leftovers = readdirSync(folder, { recursive: true })
            .map(String)
            .filter((f) => f.includes(".partial"));
          expect(leftovers).toEqual([]);
        }
      } finally {
        await sim.setFault("10.151.14.141", "none");
      }
    });
  }

  it("reports a site with one host down as degraded, and checks its hosts concurrently", async () => {
    await sim.setFault("10.152.14.142", "blackhole");
    try {
      const events: string[] = [];
      const ctx = {
        ...context(["TP001"], "./dl-degraded"),
        onEvent: (e: PhaseEvent) => e.kind === "end" && events.push(`${e.target.host}:${e.target.port} ${e.result.name}`),
      };
      const run = await runSites(ctx, ["secondary"], { download: true });
      const { buildReport } = await import("../../checks/run.js");
      const report = buildReport({ kind: "check", startedAt: "", endpoints: run.endpoints, downloads: run.downloads, warnings: [] });
      expect(report.sites).toEqual([{ site: "secondary", status: "degraded", endpoints: 2, passed: 1 }]);
      expect(report.verdict).toBe("fail");
      // The healthy host finished every phase before the blackholed host's connect timed out.
      const [healthy, dark] = sim.endpoints.filter((e) => e.site === "secondary").map((e) => `${e.bindHost}:${e.port}`);
      expect(events.indexOf(`${healthy} logout`)).toBeGreaterThanOrEqual(0);
      expect(events.indexOf(`${healthy} logout`)).toBeLessThan(events.indexOf(`${dark} tcp`));
    } finally {
      await sim.setFault("10.152.14.142", "none");
    }
  });

  it("reports a site with every host down as failed", async () => {
    await Promise.all([sim.setFault("10.152.14.141", "down"), sim.setFault("10.152.14.142", "down")]);
    try {
      const run = await runSites(context(["TP001"], "./dl-sitedown"), ["secondary"], { download: false });
      expect(run.endpoints.map((e) => e.phases[0]!.code)).toEqual(["refused", "refused"]);
      const { summariseSites } = await import("../../checks/report.js");
      expect(summariseSites(run.endpoints)).toEqual([{ site: "secondary", status: "fail", endpoints: 2, passed: 0 }]);
    } finally {
      await Promise.all([sim.setFault("10.152.14.141", "none"), sim.setFault("10.152.14.142", "none")]);
    }
  });
});
