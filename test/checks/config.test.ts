import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SESSION_DAYS } from "../../catalogue";
import { DEFAULT_TIMEOUTS, loadConfig, normaliseConfig, parseConfigText, parseHostEntry } from "../../checks/config";
import type { HomeDirectories } from "../../core/home";
import { InputError } from "../../core/errors";

const base = `user: CP0001
identityFile: ./keys/id_ed25519
knownHostsFile: ./known_hosts
files: [TP001, TP002]
`;

function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, "/etc/hkex/hkex.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected an InputError");
}

describe("config", () => {
  it("applies catalogue defaults and resolves paths from the config folder", () => {
    const c = parseConfigText(base, "/etc/hkex/hkex.yaml");
    expect(c.identityFile).toBe("/etc/hkex/keys/id_ed25519");
    expect(c.knownHostsFile).toBe("/etc/hkex/known_hosts");
    expect(c.downloadDir).toBe("/etc/hkex/downloads");
    expect(c.remoteDir).toBe(".");
    expect(c.timeouts).toEqual(DEFAULT_TIMEOUTS);
    expect(c.sites.primary.targets).toEqual([
      { host: "10.151.14.141", port: 18801 },
      { host: "10.151.14.142", port: 18801 },
    ]);
    expect(c.sites.secondary.targets.map((t) => t.host)).toEqual(["10.152.14.141", "10.152.14.142"]);
  });

  it("lets a config override one site and the timeouts", () => {
    const c = parseConfigText(
      `${base}sites:\n  secondary: { hosts: ["127.0.152.141", "127.0.152.142:2222"], port: 2200 }\ntimeouts: { connectMs: 300 }\n`,
      "/x/c.yaml",
    );
    expect(c.sites.secondary.targets).toEqual([
      { host: "127.0.152.141", port: 2200 },
      { host: "127.0.152.142", port: 2222 },
    ]);
    expect(c.sites.primary.targets[0]).toEqual({ host: "10.151.14.141", port: 18801 });
    expect(c.timeouts.connectMs).toBe(300);
    expect(c.timeouts.transferMs).toBe(DEFAULT_TIMEOUTS.transferMs);
  });

  it("reports every problem at once, each naming its key", () => {
    const problems = problemsOf(`user: ""
knownHostsFile: 42
files: []
colour: blue
sites:
  primary: { hosts: [10.151.14.300, "10.151.14.141:70000"], port: 18801 }
  secondary: { hosts: [] }
timeouts: { connectMs: -5, transferMs: fast }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        "user: must not be empty",
        "knownHostsFile: must be string, got number 42",
        "files: must name one or two files or globs",
        "colour: unknown key",
        "sites.secondary.hosts: must list at least one host",
        "timeouts.connectMs: must be at least 1 ms",
        'timeouts.transferMs: must be number, got string "fast"',
      ]),
    );
  });

  it("checks addresses and ports after the schema passes", () => {
    const problems = problemsOf(
      `${base}sites:\n  primary: { hosts: [10.151.14.300, "10.151.14.141:70000", 10.151.14.142, 10.151.14.142] }\n`,
    );
    expect(problems).toEqual([
      'sites.primary.hosts[0]: "10.151.14.300" is not an IP address',
      'sites.primary.hosts[1]: "10.151.14.141:70000" has a port out of range (1-65535)',
      'sites.primary.hosts[3]: "10.151.14.142" is listed twice',
    ]);
  });

  it("takes overrides only for the catalogue's sites", () => {
    expect(problemsOf(`${base}sites:\n  tertiary: { hosts: [10.153.14.141] }\n`)).toEqual(["sites.tertiary: unknown key"]);
  });

  it("requires an identity unless the agent is used", () => {
    expect(problemsOf("user: CP0001\nknownHostsFile: k\nfiles: [TP001]\n")).toEqual(["identityFile: is required unless agent: true"]);
  });

  it("rejects port 0 and out-of-range site ports", () => {
    expect(problemsOf(`${base}sites:\n  primary: { hosts: [10.151.14.141], port: 0 }\n`)).toEqual(["sites.primary.port: must be 1-65535"]);
  });

  it("reports malformed YAML with its line", () => {
    const problems = problemsOf("user: CP0001\nfiles: [TP001\n");
    expect(problems[0]).toMatch(/^line \d+, column \d+: malformed YAML/);
  });

  it("rejects a YAML document that is not a mapping", () => {
    expect(problemsOf("- a\n- b\n")).toEqual([": the config must be a YAML mapping of keys to values"]);
  });

  it("names the file when it cannot be read", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    expect(() => loadConfig(join(dir, "missing.yaml"))).toThrow(/--config: cannot read .*missing\.yaml: ENOENT/);
    writeFileSync(join(dir, "ok.yaml"), base);
    expect(loadConfig(join(dir, "ok.yaml")).user).toBe("CP0001");
  });

  it("parses host entries with and without ports", () => {
    expect(parseHostEntry("10.1.2.3", 18801)).toEqual({ host: "10.1.2.3", port: 18801 });
    expect(parseHostEntry("10.1.2.3:22", 18801)).toEqual({ host: "10.1.2.3", port: 22 });
    expect(parseHostEntry("[::1]:2222", 18801)).toEqual({ host: "::1", port: 2222 });
    expect(parseHostEntry("::1", 18801)).toEqual({ host: "::1", port: 18801 });
    expect(parseHostEntry("hkex.example", 18801)).toBe('"hkex.example" is not an IP address');
    expect(parseHostEntry("bad\u0000name", 1)).toBe('"bad\\x00name" is not an IP address');
  });

  describe("~ in path keys, as ssh_config(5) expands it", () => {
    const homes: HomeDirectories = {
      self: () => "/home/ops",
      user: (name) => ({ cp0001: "/srv/cp0001/" })[name],
    };
    const raw = {
      user: "CP0001",
      files: ["TP001"],
      identityFile: "~/.ssh/id_ed25519",
      knownHostsFile: "~/.ssh/known_hosts",
      downloadDir: "~cp0001/downloads",
      sshConfig: { file: "~", alias: "hkex-rr" },
    };

    it("expands ~, ~/ and ~user/ in identityFile, knownHostsFile, downloadDir and sshConfig.file", () => {
      const c = normaliseConfig(raw, "/etc/hkex/hkex.yaml", homes);
      expect(c.identityFile).toBe("/home/ops/.ssh/id_ed25519");
      expect(c.knownHostsFile).toBe("/home/ops/.ssh/known_hosts");
      expect(c.downloadDir).toBe("/srv/cp0001/downloads");
      expect(c.sshConfig?.file).toBe("/home/ops");
    });

    it("leaves a ~ that does not lead the path alone, and still resolves relative paths from the config folder", () => {
      const c = normaliseConfig({ ...raw, knownHostsFile: "./~/known_hosts", downloadDir: "dl~" }, "/etc/hkex/hkex.yaml", homes);
      expect(c.knownHostsFile).toBe("/etc/hkex/~/known_hosts");
      expect(c.downloadDir).toBe("/etc/hkex/dl~");
    });

    it("refuses a ~user that the user database does not know, naming the key", () => {
      const problems = (() => {
        try {
          normaliseConfig({ ...raw, knownHostsFile: "~nosuchuser/known_hosts", downloadDir: "~bad name/x" }, "/etc/hkex/hkex.yaml", homes);
        } catch (err) {
          return (err as InputError).problems.map((p) => `${p.path}: ${p.message}`);
        }
        throw new Error("expected an InputError");
      })();
      expect(problems).toEqual([
        'knownHostsFile: no such user "nosuchuser" (from "~nosuchuser")',
        'downloadDir: "~bad name" is not a user name',
      ]);
    });

    it("uses the user database by default: the current user's home for ~ and for ~<own name>", () => {
      const me = userInfo();
      const c = normaliseConfig({ ...raw, downloadDir: `~${me.username}/dl` }, "/etc/hkex/hkex.yaml");
      expect(c.knownHostsFile).toBe(join(me.homedir, ".ssh/known_hosts"));
      expect(c.downloadDir).toBe(join(me.homedir, "dl"));
    });
  });

  it("keeps downloads on scrape off by default, and checks the monitoring keys like every other", () => {
    expect(parseConfigText(base, "/x/c.yaml").monitoring).toEqual({ allowDownload: false, maxFileBytes: 16 * 1024 * 1024 });
    expect(parseConfigText(`${base}monitoring: { allowDownload: true, maxFileBytes: 1024 }\n`, "/x/c.yaml").monitoring).toEqual({
      allowDownload: true,
      maxFileBytes: 1024,
    });
    expect(problemsOf(`${base}monitoring: { allowDownload: "yes", maxFileBytes: 0, listen: 1 }\n`)).toEqual([
      'monitoring.allowDownload: must be boolean, got string "yes"',
      "monitoring.maxFileBytes: must be at least 1 byte",
      "monitoring.listen: unknown key",
    ]);
    expect(problemsOf(`${base}monitoring: { maxFileBytes: 2147483648 }\n`)).toEqual([
      "monitoring.maxFileBytes: must be at most 1073741824 bytes (1 GiB)",
    ]);
  });
});

describe("sessionDays: the session calendar in the config", () => {
  const day = (over: string) => `sessionDays:
  - date: "2025-03-15"
    registrationDeadline: "2025-03-05"
    circular: PT/OEC/SEOCH/999/2025
    parts:
      - { start: "12:00", end: "14:00" }
      - { start: "15:00", end: "17:00" }
${over}`;

  it("defaults to the catalogue's days, and takes a new circular's days with each part's site and title from the rundown", () => {
    expect(parseConfigText(base, "/etc/hkex/hkex.yaml").sessionDays).toBe(SESSION_DAYS);
    const c = parseConfigText(`${base}${day("")}`, "/etc/hkex/hkex.yaml");
    expect(c.sessionDays).toEqual([
      {
        date: "2025-03-15",
        registrationDeadline: "2025-03-05",
        circular: "PT/OEC/SEOCH/999/2025",
        parts: [
          { part: 1, site: "secondary", title: "Part 1 - Secondary Data Centre", start: "12:00", end: "14:00" },
          { part: 2, site: "primary", title: "Part 2 - Primary Data Centre", start: "15:00", end: "17:00" },
        ],
      },
    ]);
  });

  it("names the key of every problem: dates, times, windows, deadline, a day twice, the parts", () => {
    const bad = `${base}sessionDays:
  - date: "2025-03-15"
    registrationDeadline: "2025-03-16"
    circular: PT/OEC/SEOCH/999/2025
    parts:
      - { start: "12:00", end: "14:00" }
      - { start: "13:30", end: "13:00" }
  - date: "2025-03-15"
    registrationDeadline: "2025-02-30"
    circular: " "
    parts:
      - { part: 2, start: "12:00", end: "14:00" }
      - { start: "24:00", end: "17:00" }
  - date: "2025-04-31"
    registrationDeadline: "2025-04-01"
    circular: X
    parts:
      - { start: "12:00", end: "14:00" }
`;
    expect(problemsOf(bad)).toEqual(
      expect.arrayContaining([
        'sessionDays[1].registrationDeadline: "2025-02-30" is not a calendar date (February 2025 has 28 days)',
        "sessionDays[1].circular: must not be empty",
        'sessionDays[1].parts[1].start: "24:00" is not a Hong Kong time in HH:MM form (00:00-23:59)',
        'sessionDays[2].date: "2025-04-31" is not a calendar date (April 2025 has 30 days)',
        expect.stringMatching(/^sessionDays\[2\]\.parts: must give the windows of the 2 parts, in order: Part 1, Part 2/),
      ]),
    );
    const firstDay = bad.slice(0, bad.indexOf('  - date: "2025-03-15"', bad.indexOf("parts:")));
    expect(problemsOf(firstDay).sort()).toEqual([
      "sessionDays[0].parts[1].end: 13:00 is not after the start 13:30",
      "sessionDays[0].parts[1].start: 13:30 is before Part 1 ends (14:00): the client cannot point at both sites at once",
      "sessionDays[0].registrationDeadline: 2025-03-16 is after the session day 2025-03-15",
    ]);
    const twice = `${base}${day("")}${day("").replace("sessionDays:\n", "")}`;
    expect(problemsOf(twice)).toContain("sessionDays[1].date: 2025-03-15 is listed twice");
    expect(
      problemsOf(
        `${base}${day("").replace('      - { start: "12:00", end: "14:00" }', '      - { part: 2, start: "12:00", end: "14:00" }')}`,
      ),
    ).toContain("sessionDays[0].parts[0].part: must be 1: the parts are listed in order, Part 1 first");
    expect(problemsOf(`${base}sessionDays: []\n`)).toEqual([
      "sessionDays: must list at least one session day (leave the key out to use the catalogue's days)",
    ]);
  });
});
