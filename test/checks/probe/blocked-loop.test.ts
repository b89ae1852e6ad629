/**
 * A phase whose work resolves after its timeout should have fired, because
 * the event loop was blocked, fails: against the simulator, the banner is
 * read in time but the loop is then held up past handshakeMs before the
 * phase can finish. It must never be recorded as a pass.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeWith } from "../../../checks/probe";
import { PHASE_TABLE } from "../../../checks/probe/table";
import type { RunnablePhase } from "../../../checks/probe/types";
import { startSimulator, type RunningSimulator } from "../../../checks/simulator";
import { newUserKey, simulatorContext, tempDir, type TestKey } from "../../support/facility";

const HANDSHAKE_MS = 300;

function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The real phase, then the event loop blocked for `ms` before it can report. */
function blockedAfter(phase: RunnablePhase, ms: number): RunnablePhase {
  return {
    ...phase,
    run: async (input, ctx) => {
      const yields = await phase.run(input, ctx);
      blockEventLoop(ms);
      return yields;
    },
  };
}

describe("a phase held up past its timeout by a blocked event loop", () => {
  const dir = tempDir("blocked-loop");
  let key: TestKey;
  let sim: RunningSimulator;

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  for (const name of ["banner", "hostkey"] as const) {
    it(`${name}: fails with its timeout cause, never passes, and nothing after it runs`, async () => {
      const ctx = simulatorContext(dir, sim, key, {
        timeouts: { connectMs: 2000, handshakeMs: HANDSHAKE_MS, operationMs: 2000, transferMs: 4000 },
      });
      const target = ctx.config.sites.primary.targets[0]!;
      const table = PHASE_TABLE.map((p): RunnablePhase => (p.name === name ? blockedAfter(p, HANDSHAKE_MS * 2) : p));
      const r = await probeWith(table, {
        target: { site: "primary", host: target.host, port: target.port },
        user: ctx.config.user,
        key: ctx.key,
        knownHosts: ctx.knownHosts,
        timeouts: ctx.config.timeouts,
        remoteDir: ctx.config.remoteDir,
        files: ["TP001"],
        download: false,
        downloadDir: join(dir, `dl-${name}`),
      });
      const result = r.report.phases.find((p) => p.name === name)!;
      expect(result.status).toBe("fail");
      expect(result.code).toBe(name === "banner" ? "no-banner" : "timeout");
      expect(result.cause).toBe(
        name === "banner"
          ? `no SSH banner within ${HANDSHAKE_MS} ms: the port accepts connections but nothing speaks SSH`
          : `hostkey timed out after ${HANDSHAKE_MS} ms`,
      );
      expect(result.timeoutMs).toBe(HANDSHAKE_MS);
      expect(result.ms).toBeGreaterThan(HANDSHAKE_MS);
      expect(r.report.verdict).toBe("fail");
      const after = r.report.phases.slice(r.report.phases.indexOf(result) + 1);
      expect(after.map((p) => p.status)).toEqual(after.map(() => "skip"));
      // A pass within the timeout is what the phase would otherwise have recorded.
      if (name === "banner") expect(r.report.banner).toBeUndefined();
    });
  }
});
