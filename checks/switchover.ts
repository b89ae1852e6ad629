/**
 * The switchover itself: rewrites the HostName of one alias in the CP's
 * OpenSSH client config. The rewrite keeps every other line as it was, keeps a
 * timestamped backup, and replaces the file atomically.
 */
import { copyFileSync, readFileSync, statSync } from "node:fs";
import SSHConfig, { LineType, type Directive, type Section } from "ssh-config";
import { InputError } from "../core/errors";
import { writeFileAtomic, type SwitchoverRecord } from "./report";
import { hkNow } from "../core/time";
import type { PartNumber } from "../catalogue";

function readConfig(file: string): { text: string; parsed: ReturnType<typeof SSHConfig.parse> } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new InputError({ path: "sshConfig.file", message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}` });
  }
  try {
    return { text, parsed: SSHConfig.parse(text) };
  } catch (err) {
    throw new InputError({ path: "sshConfig.file", message: `${file} is not a valid OpenSSH client config: ${(err as Error).message}` });
  }
}

function aliasSection(parsed: ReturnType<typeof SSHConfig.parse>, file: string, alias: string): Section {
  const section = parsed.find((line) => {
    if (line.type !== LineType.DIRECTIVE || line.param.toLowerCase() !== "host") return false;
    const values = Array.isArray(line.value) ? line.value.map((v) => (typeof v === "string" ? v : v.val)) : [String(line.value)];
    return values.some((v) => v.split(/\s+/).includes(alias));
  }) as Section | undefined;
  if (!section || !("config" in section)) {
    throw new InputError({ path: "sshConfig.alias", message: `"${alias}" is not a Host in ${file}` });
  }
  return section;
}

function hostNameLine(section: Section): Directive | undefined {
  return section.config.find((l) => l.type === LineType.DIRECTIVE && l.param.toLowerCase() === "hostname") as Directive | undefined;
}

/** The alias's current HostName (undefined when the alias has none). */
export function readHostName(file: string, alias: string): string | undefined {
  const { parsed } = readConfig(file);
  const line = hostNameLine(aliasSection(parsed, file, alias));
  return line ? String(line.value) : undefined;
}

export function switchHostName(file: string, alias: string, hostName: string, part: PartNumber, at = new Date()): SwitchoverRecord {
  const { text, parsed } = readConfig(file);
  const section = aliasSection(parsed, file, alias);
  const line = hostNameLine(section);
  const before = line ? String(line.value) : undefined;
  if (before === hostName) {
    return { part, file, alias, before, after: hostName, at: hkNow(at) };
  }
  if (line) line.value = hostName;
  else {
    const indent = (section.config[0] as Directive | undefined)?.before ?? "  ";
    section.config.unshift({
      type: LineType.DIRECTIVE,
      param: "HostName",
      separator: " ",
      value: hostName,
      before: indent,
      after: "\n",
    } as Directive);
  }
  const backup = `${file}.bak-${hkNow(at).replace(/[:.]/g, "").replace(/\+.*$/, "")}`;
  copyFileSync(file, backup);
  const mode = statSync(file).mode & 0o777;
  const out = SSHConfig.stringify(parsed);
  writeFileAtomic(file, out.endsWith("\n") || !text.endsWith("\n") ? out : `${out}\n`, mode);
  const after = readHostName(file, alias);
  if (after !== hostName) {
    throw new Error(`rewrote ${file} but ${alias} now has HostName ${after ?? "(none)"}, not ${hostName}`);
  }
  return { part, file, alias, before, after: hostName, backup, at: hkNow(at) };
}
