/** `hkex-ready exporter` as a command: the listen guard, bad config, SIGHUP reloads and a clean stop. */
import { rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startCli, waitUntil } from "../support/cli";
import { http, parseSamples, simulatedSetup, type SimulatedSetup } from "../support/exporter";
import { tempDir } from "../support/facility";

describe("hkex-ready exporter (command)", () => {
  const dir = tempDir("exporter-cli");
  let setup: SimulatedSetup;

  beforeAll(async () => {
    setup = await simulatedSetup(dir);
  });
  afterAll(async () => {
    await setup?.sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to listen beyond loopback without --allow-remote: exit 2 naming the flag, nothing bound", async () => {
    const r = await cli(["exporter", "--config", setup.configFile, "--listen", "0.0.0.0:9918"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hkex-ready: --listen: 0\.0\.0\.0:9918 is reachable from other machines.*add --allow-remote/m);
    expect(r.stdout).toBe("");
  });

  it("exits 2 naming --listen when the port is taken", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = await cli(["exporter", "--config", setup.configFile, "--listen", `127.0.0.1:${port}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`hkex-ready: --listen: cannot listen on 127.0.0.1:${port}: the port is already in use`);
    } finally {
      taken.close();
    }
  });

  it("exits 2 with every config problem before listening", async () => {
    const bad = `${dir}/bad.yaml`;
    writeFileSync(bad, "user: CP0001\nfiles: []\nmonitoring: { allowDownload: 1 }\n");
    const r = await cli(["exporter", "--config", bad, "--listen", "127.0.0.1:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("files: must name one or two files or globs");
    expect(r.stderr).toContain("monitoring.allowDownload: must be boolean");
    expect(r.stdout).toBe("");
  });

  it("serves probes, reloads on SIGHUP (keeping the old config when the new one is bad), and stops with 0 on SIGTERM", async () => {
    const running = startCli(["exporter", "--config", setup.configFile, "--listen", "127.0.0.1:0"]);
    try {
      await waitUntil(() => /listening on (http:\/\/\S+)/.test(running.stdout()) || running.child.exitCode !== null);
      const url = /listening on (http:\/\/\S+)/.exec(running.stdout())![1]!;
      const successes = async () =>
        parseSamples((await http(`${url}/probe?site=secondary`)).body).filter((s) => s.name === "hkex_sftp_probe_success");
      expect((await successes()).map((s) => s.value)).toEqual([1, 1]);

      const sites = setup.sim.configSites();
      setup.writeConfig({ sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: [sites.secondary.hosts[0]] } } });
      running.child.kill("SIGHUP");
      await waitUntil(() => running.stderr().includes("config reloaded"));
      expect((await successes()).map((s) => s.labels.host)).toEqual(["127.0.152.141"]);

      writeFileSync(setup.configFile, "user: [not, a, name]\n");
      running.child.kill("SIGHUP");
      await waitUntil(() => running.stderr().includes("config reload failed"));
      expect(running.stderr()).toMatch(/keeping the previous config:\nhkex-ready exporter: .*user: must be string/);
      expect((await successes()).map((s) => s.labels.host)).toEqual(["127.0.152.141"]);
    } finally {
      running.child.kill("SIGTERM");
      const r = await running.exited;
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("SIGTERM: stopping");
      setup.writeConfig({});
    }
  });
});
