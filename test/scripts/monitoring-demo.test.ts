/**
 * `npm run monitoring:demo` (scripts/monitoring-demo.js), the newcomer's one
 * command: the simulator, the exporter and a real Prometheus come up on
 * loopback, Prometheus scrapes both sites, and Ctrl-C stops all three.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/cli";
import { http } from "../support/exporter";
import { tempDir } from "../support/facility";

const SCRIPT = join(__dirname, "..", "..", "scripts", "monitoring-demo.js");

describe("monitoring demo", () => {
  const dir = tempDir("monitoring-demo");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("brings up simulator, exporter and Prometheus on loopback until SIGINT", async () => {
    const child = spawn(process.execPath, [SCRIPT, "--exporter-port", "0", "--prometheus-port", "0", "--dir", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitUntil(() => out.includes("Ctrl-C stops all three.") || child.exitCode !== null);
      expect(out).toMatch(/simulator {3}127\.0\.151\.141:\d+, 127\.0\.151\.142:\d+, 127\.0\.152\.141:\d+, 127\.0\.152\.142:\d+/);
      const api = /prometheus {2}(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)![1]!;
      expect(out).toContain(`graph:      ${api}/graph?g0.expr=hkex_sftp_phase_duration_seconds`);
      let up: { metric: { instance: string }; value: [number, string] }[] = [];
      for (let i = 0; i < 100; i++) {
        const r = await http(`${api}/api/v1/query?query=${encodeURIComponent('up{job="hkex_sftp"} == 1')}`).catch(() => undefined);
        up = r?.status === 200 ? (JSON.parse(r.body) as { data: { result: typeof up } }).data.result : [];
        if (up.length === 2) break;
        await new Promise((res) => setTimeout(res, 250));
      }
      expect(up.map((s) => s.metric.instance).sort()).toEqual(["primary", "secondary"]);
    } finally {
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    }
    expect(out).toContain("SIGINT: stopping");
  }, 60_000);
});
