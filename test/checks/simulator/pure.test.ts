/** The simulator's pure parts: addresses, keys, fault flags, generated content, the remote tree. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HKEX_SITES, endpointsOf } from "../../../catalogue";
import { InputError } from "../../../core/errors";
import { hostPortEntry, loopbackAliasFor } from "../../../checks/simulator/addresses";
import { FAULTS, FAULT_NAMES, parseFaultFlags, type Fault } from "../../../checks/simulator/faults";
import {
  FAKE_PASSWD,
  buildFileSet,
  fillGenerated,
  generatedFile,
  readWhole,
  sampleFiles,
  withAppended,
} from "../../../checks/simulator/files";
import { fingerprintOf, knownHostsLine, publicKeyLine } from "../../../checks/simulator/keys";
import { RemoteTree, attrsOf, longname, resolvePath } from "../../../checks/simulator/tree";
import { generateEd25519KeyPair } from "../../../checks/keygen";

describe("loopback aliases", () => {
  it("maps every catalogue host a.b.c.d to a distinct 127.0.b.d", () => {
    const aliases = endpointsOf(HKEX_SITES).map((e) => loopbackAliasFor(e.host));
    expect(aliases).toEqual(["127.0.151.141", "127.0.151.142", "127.0.152.141", "127.0.152.142"]);
  });

  it("keeps the second and last octets of any IPv4 address", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, octet, (a, b, c, d) => {
        expect(loopbackAliasFor(`${a}.${b}.${c}.${d}`)).toBe(`127.0.${b}.${d}`);
      }),
    );
  });

  it("refuses names and IPv6 addresses", () => {
    expect(() => loopbackAliasFor("sftp.example")).toThrow(/not an IPv4 address/);
    expect(() => loopbackAliasFor("::1")).toThrow(/not an IPv4 address/);
  });

  it("writes host:port entries the config accepts", () => {
    expect(hostPortEntry("127.0.151.141", 40123)).toBe("127.0.151.141:40123");
    expect(hostPortEntry("::1", 40123)).toBe("[::1]:40123");
  });
});

describe("host key helpers", () => {
  const pair = generateEd25519KeyPair();

  it("gives the same public line for the private and the public key", () => {
    expect(publicKeyLine(pair.private)).toBe(pair.public.split(" ").slice(0, 2).join(" "));
  });

  it("writes [host]:port known_hosts lines", () => {
    expect(knownHostsLine("127.0.152.142", 18801, pair.private)).toBe(`[127.0.152.142]:18801 ${publicKeyLine(pair.public)}`);
    expect(knownHostsLine("127.0.152.142", 22, pair.private)).toBe(`127.0.152.142 ${publicKeyLine(pair.public)}`);
  });

  it("prints the fingerprint ssh-keygen -l prints", () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-fp-"));
    try {
      writeFileSync(join(dir, "k.pub"), `${pair.public}\n`);
      const out = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "k.pub")], { encoding: "utf8" });
      expect(out.split(" ")[1]).toBe(fingerprintOf(pair.private));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("fault flags", () => {
  it("describes every fault once", () => {
    const all: Record<Fault, true> = {
      down: true,
      refuse: true,
      silent: true,
      blackhole: true,
      "non-ssh-banner": true,
      "close-during-kex": true,
      "no-common-algorithm": true,
      "hostkey-changed": true,
      "reject-auth": true,
      "sftp-refused": true,
      "folder-missing": true,
      "file-missing": true,
      "permission-denied": true,
      "drop-mid-transfer": true,
      "stall-mid-transfer": true,
      "grow-during-download": true,
      "symlink-escape": true,
    };
    expect([...FAULT_NAMES].sort()).toEqual(Object.keys(all).sort());
    for (const f of FAULTS) expect(f.description.length).toBeGreaterThan(10);
  });

  it("parses host=fault", () => {
    expect(parseFaultFlags(["10.152.14.142=refuse", "10.151.14.141=drop-mid-transfer"])).toEqual({
      "10.152.14.142": "refuse",
      "10.151.14.141": "drop-mid-transfer",
    });
  });

  it("names every bad value at once", () => {
    let err: unknown;
    try {
      parseFaultFlags(["10.9.9.9=refuse", "10.152.14.142=explode", "nonsense"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const messages = (err as InputError).problems.map((p) => `${p.path}: ${p.message}`);
    expect(messages).toHaveLength(3);
    expect(messages[0]).toContain('--fault: "10.9.9.9=refuse": unknown host "10.9.9.9"');
    expect(messages[1]).toContain('unknown fault "explode"');
    expect(messages[2]).toContain('"nonsense" is not host=fault');
  });
});

describe("served files", () => {
  it("TP001 and TP002 are the same every time and look like reports", () => {
    const { TP001, TP002 } = sampleFiles();
    expect(TP001.length).toBeGreaterThan(2000);
    expect(TP001.length).toBeLessThan(8000);
    expect(TP001.toString("latin1")).toContain("REPORT ID : TP001");
    expect(TP002.toString("latin1")).toContain("REPORT ID : TP002");
    expect(TP001.toString("latin1")).toContain("SIMULATED");
  });

  it("generates any range on its own, equal to the same range of the whole", () => {
    const whole = Buffer.alloc(4096);
    fillGenerated(42, 0, whole);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 96 }), (offset, length) => {
        const part = Buffer.alloc(length);
        fillGenerated(42, offset, part);
        expect(part.equals(whole.subarray(offset, offset + length))).toBe(true);
      }),
    );
  });

  it("serves a 1 GiB file without holding it, and clips reads at its end", () => {
    const file = generatedFile("BIG", 2 ** 30);
    const scratch = Buffer.alloc(64);
    const tail = file.bytes(2 ** 30 - 10, 64, scratch);
    expect(tail.length).toBe(10);
    const again = Buffer.from(file.bytes(2 ** 30 - 10, 10, Buffer.alloc(10)));
    expect(again.equals(tail)).toBe(true);
    // Files past 16 GiB still get distinct words.
    const huge = generatedFile("HUGE", 2 ** 40);
    const a = Buffer.from(huge.bytes(2 ** 34, 8, Buffer.alloc(8)));
    const b = Buffer.from(huge.bytes(0, 8, Buffer.alloc(8)));
    expect(a.equals(b)).toBe(false);
  });

  it("appends bytes after the end for grow-during-download", () => {
    const tp = buildFileSet().get("TP001")!;
    const grown = withAppended(tp, 100);
    const all = readWhole(grown);
    expect(all.length).toBe(tp.size + 100);
    expect(all.subarray(0, tp.size).equals(sampleFiles().TP001)).toBe(true);
    const straddle = Buffer.from(grown.bytes(tp.size - 5, 10, Buffer.alloc(64)));
    expect(straddle.equals(all.subarray(tp.size - 5, tp.size + 5))).toBe(true);
  });

  it("lets extra files replace the samples", () => {
    const files = buildFileSet({ TP001: Buffer.from("x"), BIG: { size: 10 } });
    expect(files.get("TP001")!.size).toBe(1);
    expect([...files.keys()]).toEqual(["TP001", "TP002", "BIG"]);
  });
});

describe("remote tree", () => {
  const files = buildFileSet();
  const tree = (fault: Fault | "none" = "none", remoteDir = ".") => new RemoteTree({ remoteDir, files, fault });

  it("never resolves above /", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("..", ".", "a", "TP001", "", "//"), { maxLength: 12 }), (parts) => {
        const p = resolvePath(parts.join("/"));
        expect(p.startsWith("/")).toBe(true);
        expect(p.split("/")).not.toContain("..");
      }),
    );
    expect(tree().stat("../../../TP001")?.kind).toBe("file");
    expect(tree().stat("/etc/passwd")).toBeUndefined();
  });

  it("holds the served folder and the folders on the way to it", () => {
    const t = tree("none", "outgoing/reports");
    expect(t.servedDir).toBe("/outgoing/reports");
    expect(t.list("/")!.map((e) => e.name)).toEqual([".", "..", "outgoing"]);
    expect(t.list("/outgoing")!.map((e) => e.name)).toEqual([".", "..", "reports"]);
    expect(t.list("outgoing/reports/")!.map((e) => e.name)).toEqual([".", "..", "TP001", "TP002"]);
    expect(t.stat("/TP001")).toBeUndefined();
    expect(t.stat("/outgoing/reports/TP001/x")).toBeUndefined();
  });

  it("applies folder-missing, file-missing and symlink-escape", () => {
    expect(tree("folder-missing").list(".")).toBeUndefined();
    expect(
      tree("folder-missing", "reports")
        .list("/")!
        .map((e) => e.name),
    ).toEqual([".", ".."]);
    expect(
      tree("file-missing")
        .list(".")!
        .map((e) => e.name),
    ).toEqual([".", "..", "TP001"]);
    const t = tree("symlink-escape");
    expect(t.lstat("TP003")).toEqual({ kind: "symlink", path: "/TP003", target: "/etc/passwd" });
    const followed = t.stat("TP003");
    expect(followed?.kind === "file" && readWhole(followed.file).equals(FAKE_PASSWD)).toBe(true);
    expect(t.stat("/etc/passwd")).toBeUndefined();
  });

  it("formats long names as sftp-server does", () => {
    const node = tree().lstat("TP001")!;
    const attrs = attrsOf(node);
    expect(longname("TP001", attrs, "tester", attrs.mtime + 60)).toBe(
      `-rw-r--r--   1 tester   tester   ${String(attrs.size).padStart(8)} Nov 15 18:30 TP001`,
    );
    expect(longname("TP001", attrs, "tester", attrs.mtime + 365 * 86400)).toContain(" Nov 15  2024 TP001");
    expect(longname("TP003", attrsOf(tree("symlink-escape").lstat("TP003")!), "tester")).toMatch(/^lrwxrwxrwx /);
    expect(longname(".", attrsOf(tree().lstat(".")!), "tester")).toMatch(/^drwxr-xr-x {3}2 /);
  });
});
