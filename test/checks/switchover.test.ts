import { execFileSync } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { effectiveHostName, UnknownEffectiveValue } from "../../checks/sshConfig";
import { switchText } from "../../checks/evidence/text";
import { readHostName, switchHostName } from "../../checks/switchover";

const sample = `# CP's SFTP client config
Host other
  HostName 192.0.2.10

Host hkex-rr hkex-report
  HostName 10.151.14.141
  Port 18801
  User CP0001
  IdentityFile ~/.ssh/id_ed25519
`;

function setup(text = sample): string {
  const dir = mkdtempSync(join(tmpdir(), "sw-"));
  const file = join(dir, "hkex_ssh_config");
  writeFileSync(file, text);
  chmodSync(file, 0o600);
  return file;
}

describe("switchover", () => {
  it("rewrites only the alias's HostName, keeps a backup and the file mode", () => {
    const file = setup();
    const rec = switchHostName(file, "hkex-rr", "10.152.14.141", 1, new Date("2024-11-30T04:00:00Z"));
    expect(rec).toMatchObject({ part: 1, alias: "hkex-rr", before: "10.151.14.141", after: "10.152.14.141" });
    expect(readFileSync(file, "utf8")).toBe(sample.replace("HostName 10.151.14.141", "HostName 10.152.14.141"));
    expect(readFileSync(rec.backup!, "utf8")).toBe(sample);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readHostName(file, "hkex-report")).toBe("10.152.14.141");
    // No temporary file is left behind.
    expect(readdirSync(join(file, "..")).filter((f) => f.includes(".tmp"))).toEqual([]);
    const back = switchHostName(file, "hkex-rr", "10.151.14.141", 2);
    expect(back.before).toBe("10.152.14.141");
    expect(readFileSync(file, "utf8")).toBe(sample);
  });

  it("adds a HostName when the alias has none", () => {
    const file = setup("Host hkex-rr\n  Port 18801\n");
    switchHostName(file, "hkex-rr", "10.152.14.142", 1);
    expect(readHostName(file, "hkex-rr")).toBe("10.152.14.142");
    expect(readFileSync(file, "utf8")).toContain("Port 18801");
  });

  it("does not touch the file when the HostName is already right", () => {
    const file = setup();
    const rec = switchHostName(file, "hkex-rr", "10.151.14.141", 2);
    expect(rec.backup).toBeUndefined();
    expect(readdirSync(join(file, ".."))).toEqual(["hkex_ssh_config"]);
  });

  it("names sshConfig.alias when the alias is not in the file", () => {
    const file = setup();
    expect(() => readHostName(file, "hkex-missing")).toThrow(InputError);
    expect(() => readHostName(file, "hkex-missing")).toThrow(/sshConfig\.alias: "hkex-missing" is not a Host in/);
    expect(() => readHostName(join(file, "..", "nope"), "x")).toThrow(/sshConfig\.file: cannot read .*ENOENT/);
  });
});

/** What OpenSSH's client makes of the alias in this file. */
function sshG(file: string, alias: string): string {
  const out = execFileSync("ssh", ["-G", "-F", file, alias], { encoding: "utf8" });
  return out
    .split("\n")
    .find((l) => l.startsWith("hostname "))!
    .slice("hostname ".length);
}

function inputProblem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).message;
  }
  throw new Error("expected an InputError");
}

/** A folder holding the client config and the files it includes, as the CP keeps them. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "swx-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text.replaceAll("$DIR", dir), { mode: 0o600 });
  }
  return dir;
}

describe("the effective HostName, as ssh -G computes it", () => {
  const cases: { name: string; files: Record<string, string>; alias?: string }[] = [
    { name: "own block", files: { config: "Host hkex-rr\n  HostName 10.151.14.141\n" } },
    {
      name: "first of two blocks wins",
      files: { config: "Host hkex-rr\n  HostName 10.151.14.141\nHost hkex-*\n  HostName 10.152.14.142\n" },
    },
    { name: "wildcard block first", files: { config: "Host hkex-?r\n  HostName 10.152.14.142\nHost hkex-rr\n  HostName 10.151.14.141\n" } },
    { name: "? is one character", files: { config: "Host hkex-?\n  HostName 10.152.14.142\nHost hkex-rr\n  HostName 10.151.14.141\n" } },
    {
      name: "negated pattern",
      files: { config: "Host hkex-* !hkex-rr\n  HostName 10.152.14.142\nHost hkex-rr\n  HostName 10.151.14.141\n" },
    },
    { name: "case matters in Host", files: { config: "Host HKEX-RR\n  HostName 10.152.14.142\nHost hkex-rr\n  HostName 10.151.14.141\n" } },
    { name: "global line first", files: { config: "HostName 10.152.14.141\nHost hkex-rr\n  HostName 10.151.14.141\n" } },
    { name: "= and quotes", files: { config: 'host=hkex-rr\n  hostname = "10.151.14.142"\n' } },
    { name: "%h", files: { config: "Host hkex-rr\n  HostName %h.example\n" } },
    { name: "no HostName", files: { config: "Host hkex-rr\n  Port 18801\n" } },
    {
      name: "Match originalhost, all, negated host",
      files: {
        config:
          "Match originalhost other\n  HostName 10.0.0.1\nMatch !host hkex-rr\n  HostName 10.0.0.2\nHost hkex-rr\n  HostName 10.151.14.141\nMatch all\n  HostName 10.0.0.3\n",
      },
    },
    { name: "Match host after a HostName", files: { config: "Host hkex-rr\n  User cp\nMatch host hkex-rr\n  HostName 10.152.14.141\n" } },
    { name: "Match user", files: { config: "Host hkex-rr\n  User cp0001\nMatch user cp0001\n  HostName 10.152.14.141\n" } },
    {
      name: "Match final is not the first pass",
      files: { config: "Match final\n  HostName 10.0.0.9\nHost hkex-rr\n  HostName 10.151.14.141\n" },
    },
    {
      name: "Include, glob in lexical order",
      files: {
        config: "Include $DIR/conf.d/*.conf\nHost hkex-rr\n  HostName 10.151.14.141\n",
        "conf.d/20-b.conf": "Host hkex-rr\n  HostName 10.152.14.142\n",
        "conf.d/10-a.conf": "Host hkex-rr\n  HostName 10.152.14.141\n",
        "conf.d/.hidden.conf": "Host hkex-rr\n  HostName 10.0.0.1\n",
      },
    },
    {
      name: "Include under a block that does not apply reads nothing into it",
      files: { config: "Host other\n  Include $DIR/inc\nHost hkex-rr\n  HostName 10.151.14.141\n", inc: "Host *\n  HostName 10.0.0.1\n" },
    },
    {
      name: "Include does not change the including block",
      files: {
        config: "Host hkex-rr\n  Include $DIR/inc\n  HostName 10.151.14.141\n",
        inc: "Host nothing-matches\n  User x\n",
      },
    },
  ];
  for (const c of cases) {
    it(`agrees with ssh -G: ${c.name}`, () => {
      const dir = folder(c.files);
      const file = join(dir, "config");
      expect(effectiveHostName(file, c.alias ?? "hkex-rr").value).toBe(sshG(file, c.alias ?? "hkex-rr"));
    });
  }

  it("names the line that wins, and the alias's own block", () => {
    const dir = folder({
      config: "# CP config\nInclude $DIR/inc\n\nHost hkex-rr\n  Port 18801\n  HostName 10.151.14.141\nHost *\n  User x\n",
      inc: "Host hkex-rr\n  User cp\n",
    });
    const e = effectiveHostName(join(dir, "config"), "hkex-rr");
    expect(e.from).toEqual({ file: join(dir, "config"), line: 6 });
    expect(e.ownBlock).toEqual({ file: join(dir, "config"), line: 4, endLine: 6 });
  });

  it("reads a relative Include from ~/.ssh, as ssh_config(5) says for user configurations", () => {
    const home = folder({ ".ssh/hkex.conf": "Host hkex-rr\n  HostName 10.152.14.142\n" });
    const dir = folder({ config: "Include hkex.conf\nHost hkex-rr\n  HostName 10.151.14.141\n" });
    const homes = { self: () => home, user: () => undefined };
    expect(effectiveHostName(join(dir, "config"), "hkex-rr", { homes })).toMatchObject({
      value: "10.152.14.142",
      from: { file: join(home, ".ssh/hkex.conf"), line: 2 },
    });
  });

  it("cannot tell under Match exec, and says which line", () => {
    const dir = folder({ config: 'Match exec "test -e /nonexistent"\n  HostName 10.0.0.1\nHost hkex-rr\n  HostName 10.151.14.141\n' });
    expect(() => effectiveHostName(join(dir, "config"), "hkex-rr")).toThrow(UnknownEffectiveValue);
    expect(() => effectiveHostName(join(dir, "config"), "hkex-rr")).toThrow(/config:2 is under a condition the kit cannot evaluate/);
    // After the alias's own HostName, a Match exec decides nothing.
    const after = folder({ config: 'Host hkex-rr\n  HostName 10.151.14.141\nMatch exec "false"\n  HostName 10.0.0.1\n' });
    expect(effectiveHostName(join(after, "config"), "hkex-rr").value).toBe(sshG(join(after, "config"), "hkex-rr"));
  });
});

describe("switchover as OpenSSH sees it", () => {
  it("refuses when an earlier Host hkex-* block sets the HostName, naming the file and line that win (exit 2)", () => {
    const dir = folder({
      config: "Host hkex-*\n  HostName 10.151.14.142\n  User CP0001\n\nHost hkex-rr\n  HostName 10.151.14.141\n",
    });
    const file = join(dir, "config");
    const before = readFileSync(file, "utf8");
    const message = inputProblem(() => switchHostName(file, "hkex-rr", "10.152.14.141", 1));
    expect(message).toContain(
      `sshConfig.file: ${file}:2 sets the HostName of hkex-rr (10.151.14.142) before its own Host block at ${file}:5 does`,
    );
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(readdirSync(dir)).toEqual(["config"]);
    // The same refusal stops a command before anything is contacted.
    expect(() => readHostName(file, "hkex-rr")).toThrow(/config:2 sets the HostName of hkex-rr/);
  });

  it("refuses a HostName from an Include, or from a Match block, that wins over the alias's own", () => {
    const viaInclude = folder({
      config: "Host hkex-rr\n  Include $DIR/conf.d/*.conf\n  HostName 10.151.14.141\n",
      "conf.d/hkex.conf": "HostName 10.152.14.142\n",
    });
    expect(inputProblem(() => switchHostName(join(viaInclude, "config"), "hkex-rr", "10.152.14.141", 1))).toContain(
      `${join(viaInclude, "conf.d/hkex.conf")}:1 sets the HostName of hkex-rr`,
    );
    const viaMatch = folder({ config: "Match originalhost hkex-rr\n  HostName 10.151.14.142\nHost hkex-rr\n  HostName 10.151.14.141\n" });
    expect(inputProblem(() => switchHostName(join(viaMatch, "config"), "hkex-rr", "10.152.14.141", 1))).toContain(
      `${join(viaMatch, "config")}:2 sets the HostName of hkex-rr`,
    );
    const viaExec = folder({ config: 'Match exec "true"\n  HostName 10.151.14.142\nHost hkex-rr\n  HostName 10.151.14.141\n' });
    expect(inputProblem(() => switchHostName(join(viaExec, "config"), "hkex-rr", "10.152.14.141", 1))).toMatch(
      /sshConfig\.file: .*config:2: the HostName at .*config:2 is under a condition the kit cannot evaluate/,
    );
  });

  it("refuses an included file that ssh would refuse (writable by others)", () => {
    const dir = folder({ config: "Include $DIR/inc\nHost hkex-rr\n  HostName 10.151.14.141\n", inc: "Host other\n  User x\n" });
    chmodSync(join(dir, "inc"), 0o666);
    expect(inputProblem(() => readHostName(join(dir, "config"), "hkex-rr"))).toContain("has bad owner or permissions; ssh refuses it");
    expect(() => sshG(join(dir, "config"), "hkex-rr")).toThrow(/Bad owner or permissions/);
  });

  it("switches with Include files and Match blocks around the alias, and ssh -G agrees after every switch", () => {
    const dir = folder({
      config:
        "Include $DIR/conf.d/*.conf\n\nHost hkex-rr\n  HostName 10.151.14.141\n  Port 18801\n\nMatch host 10.15*\n  User CP0001\n\nHost *\n  HostName 192.0.2.1\n",
      "conf.d/10-other.conf": "Host other\n  HostName 192.0.2.10\n",
    });
    const file = join(dir, "config");
    for (const [part, target] of [
      [1, "10.152.14.141"],
      [2, "10.151.14.141"],
      [1, "10.152.14.142"],
    ] as const) {
      const rec = switchHostName(file, "hkex-rr", target, part);
      expect(rec.effective).toEqual({ hostName: target, line: `${file}:4`, sshG: target, port: 18801, sshGPort: 18801 });
      expect(sshG(file, "hkex-rr")).toBe(target);
    }
  });

  it("puts the file back when the switch does not take effect (the alias's own block excludes it)", () => {
    const dir = folder({ config: "Host hkex-rr !hkex-rr\n  Port 18801\n" });
    const file = join(dir, "config");
    const message = inputProblem(() => switchHostName(file, "hkex-rr", "10.152.14.141", 1));
    expect(message).toContain("resolves to hkex-rr");
    expect(message).toContain(`the switch was undone (${file} restored)`);
    expect(readFileSync(file, "utf8")).toBe("Host hkex-rr !hkex-rr\n  Port 18801\n");
  });

  it("writes a symlinked config through to its target, in the target's folder; the link stays a link", () => {
    const real = folder({ "dotfiles/ssh_config": sample });
    const linkDir = mkdtempSync(join(tmpdir(), "swl-"));
    const link = join(linkDir, "hkex_ssh_config");
    symlinkSync(join(real, "dotfiles/ssh_config"), link);
    const rec = switchHostName(link, "hkex-rr", "10.152.14.141", 1);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(join(real, "dotfiles/ssh_config"));
    expect(readFileSync(join(real, "dotfiles/ssh_config"), "utf8")).toBe(
      sample.replace("HostName 10.151.14.141", "HostName 10.152.14.141"),
    );
    expect(statSync(join(real, "dotfiles/ssh_config")).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(real, "dotfiles"))).toEqual(["ssh_config"]);
    expect(rec.effective?.sshG).toBe("10.152.14.141");
    expect(readFileSync(rec.backup!, "utf8")).toBe(sample);
  });
});

describe("two sites on one address, told apart by port (the demo's fallback to 127.0.0.1)", () => {
  const portOf = (file: string) =>
    Number(
      execFileSync("ssh", ["-G", "-F", file, "hkex-rr"], { encoding: "utf8" })
        .split("\n")
        .find((l) => l.startsWith("port "))!
        .slice("port ".length),
    );

  it("switches the Port with the HostName, records both, and the switchover reads host and port", () => {
    const dir = folder({ config: "Host hkex-rr\n  HostName 127.0.0.1\n  Port 40001\n  User CP0001\n" });
    const file = join(dir, "config");
    const rec = switchHostName(file, "hkex-rr", { host: "127.0.0.1", port: 40002 }, 1);
    expect(rec).toMatchObject({ before: "127.0.0.1", after: "127.0.0.1", portBefore: 40001, portAfter: 40002 });
    expect(rec.effective).toMatchObject({ hostName: "127.0.0.1", port: 40002, sshGPort: 40002 });
    expect(portOf(file)).toBe(40002);
    expect(switchText(rec)).toBe("HostName 127.0.0.1 Port 40001 → HostName 127.0.0.1 Port 40002");
    const back = switchHostName(file, "hkex-rr", { host: "127.0.0.1", port: 40001 }, 2);
    expect(switchText(back)).toBe("HostName 127.0.0.1 Port 40002 → HostName 127.0.0.1 Port 40001");
    expect(readFileSync(file, "utf8")).toBe("Host hkex-rr\n  HostName 127.0.0.1\n  Port 40001\n  User CP0001\n");
  });

  it("adds a Port line to the alias's block when none applies, and refuses one that an earlier block decides", () => {
    const dir = folder({ config: "Host hkex-rr\n  HostName 127.0.0.1\n" });
    const file = join(dir, "config");
    switchHostName(file, "hkex-rr", { host: "127.0.0.1", port: 40002 }, 1);
    expect(portOf(file)).toBe(40002);
    const earlier = folder({ config: "Host *\n  Port 40001\n\nHost hkex-rr\n  HostName 127.0.0.1\n" });
    const earlierFile = join(earlier, "config");
    expect(inputProblem(() => switchHostName(earlierFile, "hkex-rr", { host: "127.0.0.1", port: 40002 }, 1))).toContain(
      `${earlierFile}:2 sets the Port of hkex-rr (40001) before its own Host block at ${earlierFile}:4 does`,
    );
    expect(readFileSync(earlierFile, "utf8")).toBe("Host *\n  Port 40001\n\nHost hkex-rr\n  HostName 127.0.0.1\n");
  });
});
