import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
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
