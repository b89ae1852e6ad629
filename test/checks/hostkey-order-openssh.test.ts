/**
 * A real sshd holding ed25519, ECDSA and RSA host keys, with known_hosts
 * pinning one type only (plain, and hashed by `ssh-keygen -H`): the kit
 * negotiates the pinned type as OpenSSH's ssh does, so hostkey passes; a
 * changed key of the pinned type is a mismatch. OpenSSH's sftp runs on the
 * same known_hosts file each time, and must agree.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderHostKeyAlgorithms } from "../../checks/hostKeyAlgorithms";
import { loadUserKey } from "../../checks/keys";
import { parseKnownHosts } from "../../checks/knownHosts";
import { runSites } from "../../checks/run";
import { cli, writeConfig } from "../support/cli";
import { makeConfig, newUserKey, tempDir, type TestKey } from "../support/facility";
import { fingerprintOfPublicKey, knownHostsLineFor, startOpenSsh, type HostKeyType, type OpenSshServer } from "../support/sshd";

const TYPES: readonly HostKeyType[] = ["ed25519", "ecdsa", "rsa"];
const WIRE_NAME: Record<HostKeyType, string> = { ed25519: "ssh-ed25519", ecdsa: "ecdsa-sha2-nistp256", rsa: "ssh-rsa" };

describe("host key negotiation against an sshd with three host key types", () => {
  const dir = tempDir("hostkey-order");
  let user: TestKey;
  let server: OpenSshServer;
  let n = 0;

  beforeAll(async () => {
    user = newUserKey(dir);
    server = await startOpenSsh({
      bindHost: "127.0.151.141",
      hostKeyTypes: ["ed25519", "ecdsa", "rsa"],
      authorizedKeys: [user.publicLine],
      files: { TP001: Buffer.from("report") },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A known_hosts file holding `lines`, hashed with `ssh-keygen -H` when asked. */
  function knownHostsFile(lines: readonly string[], hashed: boolean): string {
    const file = join(dir, `known_hosts-${++n}`);
    writeFileSync(file, `${lines.join("\n")}\n`);
    if (hashed) {
      execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
      rmSync(`${file}.old`);
      expect(readFileSync(file, "utf8")).toMatch(/^\|1\|/);
    }
    return file;
  }

  async function probe(file: string) {
    const config = makeConfig(dir, {
      user: server.user,
      identityFile: user.privatePath,
      knownHostsFile: file,
      files: ["TP001"],
      sites: { primary: { hosts: [`${server.host}:${server.port}`] }, secondary: { hosts: ["127.0.152.141:1"] } },
    });
    const run = await runSites(
      { config, key: loadUserKey(config, {}), knownHosts: parseKnownHosts(readFileSync(file, "utf8")) },
      ["primary"],
      { download: false },
    );
    return run.endpoints[0]!;
  }

  /** OpenSSH's sftp, strict host key checking on this known_hosts file and nothing else. */
  function opensshSftp(file: string): Promise<{ ok: boolean; stderr: string }> {
    const args = [
      "-F",
      "/dev/null",
      "-b",
      "-",
      "-i",
      user.privatePath,
      "-P",
      String(server.port),
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "IdentityAgent=none",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${file}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      `${server.user}@${server.host}`,
    ];
    return new Promise((resolve) => {
      const child = execFile("sftp", args, { timeout: 20_000, env: { PATH: process.env.PATH } }, (err, _out, stderr) =>
        resolve({ ok: !err, stderr }),
      );
      child.stdin!.end("pwd\n");
    });
  }

  for (const type of TYPES) {
    for (const hashed of [false, true]) {
      it(`passes hostkey with only ${type} pinned (${hashed ? "hashed" : "plain"}), as OpenSSH's sftp does`, async () => {
        const pinned = server.hostKeys.find((k) => k.type === type)!;
        const file = knownHostsFile([pinned.knownHostsLine], hashed);
        const e = await probe(file);
        expect(e.phases.find((p) => p.name === "hostkey")).toMatchObject({ status: "pass" });
        expect(e.hostKey).toEqual({ type: WIRE_NAME[type], fingerprint: pinned.fingerprint, status: "match" });
        expect(e.phases.find((p) => p.name === "auth")?.status).toBe("pass");
        const sftp = await opensshSftp(file);
        expect(sftp.ok, sftp.stderr).toBe(true);
      });
    }

    it(`fails hostkey as a mismatch when the ${type} key differs from the pinned ${type} key, as OpenSSH's sftp refuses`, async () => {
      const other = join(dir, `other_${type}_${++n}`);
      execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-f", other]);
      const otherLine = readFileSync(`${other}.pub`, "utf8").trim();
      const file = knownHostsFile([knownHostsLineFor(server.host, server.port, otherLine)], false);
      const e = await probe(file);
      const hostkey = e.phases.find((p) => p.name === "hostkey")!;
      expect(hostkey).toMatchObject({ status: "fail", code: "hostkey-mismatch" });
      // The server presented its own key of the pinned type, not another type.
      expect(e.hostKey).toEqual({
        type: WIRE_NAME[type],
        fingerprint: server.hostKeys.find((k) => k.type === type)!.fingerprint,
        status: "mismatch",
        expected: [fingerprintOfPublicKey(otherLine)],
      });
      const sftp = await opensshSftp(file);
      expect(sftp.ok).toBe(false);
      expect(sftp.stderr).toContain("REMOTE HOST IDENTIFICATION HAS CHANGED");
    });
  }

  /** The host key algorithms OpenSSH's ssh puts in its KEXINIT for this known_hosts file (from -vv). */
  function opensshProposal(file: string): Promise<string[]> {
    const args = [
      "-vv",
      "-F",
      "/dev/null",
      "-i",
      user.privatePath,
      "-p",
      String(server.port),
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "IdentityAgent=none",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${file}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      `${server.user}@${server.host}`,
    ];
    return new Promise((resolve, reject) => {
      const child = execFile("ssh", args, { timeout: 20_000, env: { PATH: process.env.PATH } }, (_err, _out, stderr) => {
        const proposal = stderr.split("local client KEXINIT proposal")[1];
        const line = proposal?.split("\n").find((l) => l.includes("host key algorithms: "));
        if (!line) reject(new Error(`no client KEXINIT proposal in ssh's output:\n${stderr}`));
        else resolve(line.split("host key algorithms: ")[1]!.trim().split(","));
      });
      child.stdin!.end();
    });
  }

  it("orders the host key algorithms exactly as OpenSSH's ssh does for the same known_hosts file", async () => {
    const opensshDefault = execFileSync("ssh", ["-G", "-F", "/dev/null", server.host], { encoding: "utf8" })
      .split("\n")
      .find((l) => l.startsWith("hostkeyalgorithms "))!
      .split(" ")[1]!
      .split(",");
    const key = (type: HostKeyType) => server.hostKeys.find((k) => k.type === type)!;
    const blob = (type: HostKeyType) => key(type).publicLine.split(" ").slice(0, 2).join(" ");
    const at = `[${server.host}]:${server.port}`;
    const wildcard = `[${server.host.replace(/\.\d+$/, ".*")}]:${server.port}`;
    const cases: { name: string; lines: string[]; hashed?: boolean }[] = [
      { name: "rsa only", lines: [key("rsa").knownHostsLine] },
      { name: "ecdsa only, hashed", lines: [key("ecdsa").knownHostsLine], hashed: true },
      { name: "ed25519 and rsa", lines: [key("rsa").knownHostsLine, key("ed25519").knownHostsLine] },
      { name: "ecdsa and rsa", lines: [key("rsa").knownHostsLine, key("ecdsa").knownHostsLine] },
      { name: "wildcard rsa", lines: [`${wildcard} ${blob("rsa")}`] },
      { name: "negated ecdsa, plain rsa", lines: [`${wildcard},!${at} ${blob("ecdsa")}`, key("rsa").knownHostsLine] },
      { name: "another port only", lines: [`[${server.host}]:1 ${blob("ecdsa")}`] },
      { name: "revoked rsa pin, ecdsa pin", lines: [`@revoked * ${blob("rsa")}`, key("rsa").knownHostsLine, key("ecdsa").knownHostsLine] },
      { name: "certificate authority and rsa", lines: [`@cert-authority ${at} ${blob("ed25519")}`, key("rsa").knownHostsLine] },
    ];
    for (const c of cases) {
      const file = knownHostsFile(c.lines, c.hashed ?? false);
      const entries = parseKnownHosts(readFileSync(file, "utf8"));
      const proposal = await opensshProposal(file);
      expect(orderHostKeyAlgorithms(entries, server.host, server.port, opensshDefault), c.name).toEqual(proposal);
      if (c.name === "rsa only") {
        // Not the default order: RSA (certificates of RSA keys included) moved to the front.
        expect(proposal.slice(0, 4)).toEqual([
          "rsa-sha2-512-cert-v01@openssh.com",
          "rsa-sha2-256-cert-v01@openssh.com",
          "rsa-sha2-512",
          "rsa-sha2-256",
        ]);
      }
    }
  });

  it("with every type pinned, negotiates ed25519, OpenSSH's first preference", async () => {
    const file = knownHostsFile(
      server.hostKeys.map((k) => k.knownHostsLine),
      false,
    );
    const e = await probe(file);
    expect(e.hostKey).toMatchObject({ type: "ssh-ed25519", status: "match" });
  });

  it("trust finds an RSA-only pin already in place, and with nothing pinned records the key it negotiated (ed25519)", async () => {
    const rsa = server.hostKeys.find((k) => k.type === "rsa")!;
    const file = knownHostsFile([rsa.knownHostsLine], true);
    const config = writeConfig(dir, {
      user: server.user,
      identityFile: user.privatePath,
      knownHostsFile: file,
      files: ["TP001"],
      sites: { primary: { hosts: [`${server.host}:${server.port}`] }, secondary: { hosts: ["127.0.152.141:1"] } },
    });
    const pinned = await cli(["trust", "--config", config, "--site", "primary"]);
    expect(pinned.stdout).toContain(`ssh-rsa ${rsa.fingerprint} already pinned (line 1)`);
    expect(pinned.code).toBe(0);

    writeFileSync(file, "");
    const fresh = await cli(["trust", "--config", config, "--site", "primary"]);
    const ed25519 = server.hostKeys.find((k) => k.type === "ed25519")!;
    expect(fresh.stdout).toContain(`recorded ssh-ed25519 ${ed25519.fingerprint}`);
    expect(fresh.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(`${ed25519.knownHostsLine}\n`);
  });

  it("trust creates a missing known_hosts folder with mode 0700, and refuses an unusable one before contacting any host", async () => {
    const trustConfig = (knownHostsFile: string) =>
      writeConfig(dir, {
        user: server.user,
        identityFile: user.privatePath,
        knownHostsFile,
        files: ["TP001"],
        sites: { primary: { hosts: [`${server.host}:${server.port}`] }, secondary: { hosts: ["127.0.152.141:1"] } },
      });
    const file = join(dir, "fresh-home", ".ssh", "known_hosts");
    const made = await cli(["trust", "--config", trustConfig(file), "--site", "primary"]);
    expect(made.code).toBe(0);
    expect(made.stderr).toContain(`created ${join(dir, "fresh-home")} (mode 0700)`);
    expect(statSync(join(dir, "fresh-home", ".ssh")).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, "utf8")).toContain(
      server.hostKeys
        .find((k) => k.type === "ed25519")!
        .knownHostsLine.split(" ")
        .slice(1)
        .join(" "),
    );

    const connections = () => server.logs().match(/Connection from/g)?.length ?? 0;
    const before = connections();
    expect(before).toBeGreaterThan(0);
    writeFileSync(join(dir, "a-file"), "not a folder\n");
    const blocked = join(dir, "a-file", "known_hosts");
    const refused = await cli(["trust", "--config", trustConfig(blocked), "--site", "primary"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`knownHostsFile: ${join(dir, "a-file")} (the folder of ${blocked}) is a file, not a folder`);
    expect(refused.stdout).not.toContain("recorded");
    expect(refused.stderr).not.toMatch(/internal error/);
    const underFile = join(dir, "a-file", "deeper", "known_hosts");
    const cannot = await cli(["trust", "--config", trustConfig(underFile), "--site", "primary"]);
    expect(cannot.code).toBe(2);
    expect(cannot.stderr).toMatch(/knownHostsFile: cannot create the folder .*deeper for .*: ENOTDIR/);
    expect(existsSync(underFile)).toBe(false);
    expect(connections()).toBe(before);
  });
});
