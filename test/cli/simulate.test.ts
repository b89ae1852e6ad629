/** `hkex-ready simulate`: the files it writes work with a real client, bad --fault values exit 2. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InputError } from "../../core/errors";
import { exitCodeFor } from "../../cli/main";
import { run, startSimulation } from "../../cli/commands/simulate";
import { parseKnownHosts } from "../../checks/knownHosts";
import { call, openSftp, sshConnect } from "../support/sshClient";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sim-cmd-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.on("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

describe("hkex-ready simulate", () => {
  it("names a bad --fault value and exits 2 before binding anything", async () => {
    const dir = tempDir();
    const err = await run({ dir, fault: ["10.152.14.142=explode", "10.1.1.1=down"], port: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain('--fault: "10.152.14.142=explode": unknown fault "explode"');
    expect((err as Error).message).toContain('--fault: "10.1.1.1=down": unknown host "10.1.1.1"');
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(exitCodeFor(err)).toBe(2);
    expect(stderr).toHaveBeenCalled();
  });

  it("writes a key, known_hosts and a config that log in and list, then stops on SIGINT and returns 0", async () => {
    const dir = tempDir();
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const running = run({ dir, port: 0, fault: ["10.151.14.142=refuse"] });
    const configFile = join(dir, "hkex.yaml");
    for (let i = 0; i < 100 && !out.join("").includes("hkex-ready check --config"); i++) await new Promise((r) => setTimeout(r, 20));
    const text = out.join("");
    expect(text).toContain(`hkex-ready check --config ${configFile}`);
    expect(text).toMatch(/primary +10\.151\.14\.142 +→ 127\.0\.151\.142:\d+ +\[fault: refuse\]/);
    expect(text).toMatch(/secondary +SHA256:/);

    expect(statSync(join(dir, "id_ed25519")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "id_ed25519.pub"), "utf8")).toMatch(/^ssh-ed25519 AAAA\S+ CP0001@hkex-ready-simulate\n$/);
    const config = parse(readFileSync(configFile, "utf8")) as Record<string, unknown> & { sites: Record<string, { hosts: string[] }> };
    expect(config).toMatchObject({
      user: "CP0001",
      identityFile: "./id_ed25519",
      knownHostsFile: "./known_hosts",
      remoteDir: ".",
      files: ["TP001", "TP002"],
      downloadDir: "./downloads",
    });
    expect(config.sites.primary!.hosts).toHaveLength(2);
    const known = parseKnownHosts(readFileSync(join(dir, "known_hosts"), "utf8"));
    expect(known).toHaveLength(4);

    const [host, port] = config.sites.secondary!.hosts[1]!.split(":") as [string, string];
    const key = readFileSync(join(dir, "id_ed25519"), "utf8");
    const pinned = known.find((k) => k.hostPatterns.includes(`[${host}]:${port}`))!;
    const { client } = await sshConnect(
      { bindHost: host, port: Number(port) },
      { username: "CP0001", privateKey: key, hostVerifier: (blob: Buffer) => blob.equals(pinned.keyBlob) },
    );
    const sftp = await openSftp(client);
    expect((await call<{ filename: string }[]>((cb) => sftp.readdir(".", cb))).map((e) => e.filename).sort()).toEqual(["TP001", "TP002"]);
    client.end();

    process.emit("SIGINT");
    await expect(running).resolves.toBe(0);
    expect(await refused(host, Number(port))).toBe(true);
  });

  it("keeps its keys across restarts and never overwrites files it did not write", async () => {
    const dir = tempDir();
    const first = await startSimulation({ dir, port: 0 });
    const fingerprints = first.sim.hostKeyFingerprints;
    const userKey = readFileSync(first.files.identityFile, "utf8");
    await first.sim.close();
    const second = await startSimulation({ dir, port: 0 });
    expect(second.sim.hostKeyFingerprints).toEqual(fingerprints);
    expect(readFileSync(second.files.identityFile, "utf8")).toBe(userKey);
    await second.sim.close();

    writeFileSync(second.files.knownHostsFile, "[10.151.14.141]:18801 ssh-ed25519 AAAA precious\n");
    await expect(startSimulation({ dir, port: 0 })).rejects.toThrow(/known_hosts exists and was not written by hkex-ready simulate/);
    writeFileSync(second.files.identityFile, "not a key");
    await expect(startSimulation({ dir, port: 0 })).rejects.toThrow(/id_ed25519 exists but cannot be used/);
  });
});
