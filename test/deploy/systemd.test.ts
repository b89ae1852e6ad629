/**
 * The exporter's systemd unit (deploy/systemd/hkex-ready-exporter.service),
 * checked by systemd's own tools: `systemd-analyze verify` finds no unknown or
 * malformed setting, and `systemd-analyze security --offline` rates its
 * exposure low; a copy without the hardening fails that same threshold.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/facility";

const UNIT = join(__dirname, "..", "..", "deploy", "systemd", "hkex-ready-exporter.service");
/** systemd-analyze's --threshold is on a 0-100 scale: 20 is an exposure level of 2.0 (of 10). */
const THRESHOLD = "20";

function analyze(args: string[]): { code: number | null; out: string } {
  const r = spawnSync("systemd-analyze", args, { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("systemd unit", () => {
  const dir = tempDir("systemd");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(UNIT, "utf8");

  it("runs the exporter on loopback, reloads on SIGHUP, and hands the key over as a credential", () => {
    expect(text).toMatch(/^ExecStart=\S*node \S+hkex-ready\.js exporter --config \S+ --listen 127\.0\.0\.1:9918$/m);
    expect(text).not.toContain("--allow-remote");
    expect(text).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(text).toMatch(/^LoadCredential=id_ed25519:/m);
    for (const option of ["DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes"]) {
      expect(text).toContain(`\n${option}\n`);
    }
    expect(text).toMatch(/^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$/m);
  });

  it("has no setting systemd-analyze verify rejects", () => {
    const copy = join(dir, "hkex-ready-exporter.service");
    writeFileSync(copy, text);
    const r = analyze(["verify", copy]);
    expect(r.out).not.toMatch(/Unknown key|Failed to parse|Unknown section|Invalid/i);
    const typo = join(dir, "typo.service");
    writeFileSync(typo, text.replace("ProtectHome=yes", "ProtectHomer=yes"));
    expect(analyze(["verify", typo]).out).toMatch(/Unknown key 'ProtectHomer'/);
  });

  it("rates an exposure of 2.0 or less in systemd-analyze security; without the hardening it does not", () => {
    const copy = join(dir, "hkex-ready-exporter.service");
    writeFileSync(copy, text);
    const hardened = analyze(["security", "--offline=true", `--threshold=${THRESHOLD}`, copy]);
    expect(hardened.out).toMatch(/Overall exposure level for hkex-ready-exporter\.service: [0-2]\.\d/);
    expect(hardened.code).toBe(0);
    const bare = join(dir, "bare.service");
    const hardening =
      /^(NoNewPrivileges|ProtectSystem|ProtectHome|PrivateUsers|PrivateDevices|CapabilityBoundingSet|RestrictAddressFamilies|SystemCallFilter|DynamicUser|IPAddressDeny|ProtectKernel\w+|RestrictNamespaces)=.*\n/gm;
    writeFileSync(bare, text.replace(hardening, ""));
    expect(analyze(["security", "--offline=true", `--threshold=${THRESHOLD}`, bare]).code).not.toBe(0);
  });
});
