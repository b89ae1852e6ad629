/**
 * The switchover itself: rewrites the HostName of one alias in the CP's
 * OpenSSH client config. The rewrite keeps every other line as it was, keeps a
 * timestamped backup, and replaces the file atomically; a symlinked config is
 * written through to its target (in the target's folder), and stays a link.
 *
 * The switch only counts if OpenSSH agrees. Before it, the alias's effective
 * HostName is computed as `ssh -G` computes it (sshConfig.ts: first obtained
 * value wins across Host, Match and Include): when the line that wins is not
 * in the alias's own Host block, rewriting that block would change nothing,
 * and the kit refuses, naming the file and line that wins. After it, the
 * effective value is computed again, and `ssh -G -F file alias` is asked when
 * an OpenSSH client is installed; if either disagrees the original file is
 * put back and the switch refused.
 */
import { copyFileSync, readFileSync, realpathSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import SSHConfig, { LineType, type Directive, type Section } from "ssh-config";
import { InputError } from "../core/errors";
import { printable } from "../core/text";
import { hkNow } from "../core/time";
import type { PartNumber } from "../catalogue";
import { writeFileAtomic, type EffectiveHostNameRecord, type SwitchoverRecord } from "./report";
import { BadClientConfig, effectiveHostName, UnknownEffectiveValue, where, type EffectiveHostName } from "./sshConfig";

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

/** `ssh -G -F file alias`'s hostname; undefined when no OpenSSH client is installed. */
export function sshGHostName(file: string, alias: string): string | undefined {
  const r = spawnSync("ssh", ["-G", "-F", file, alias], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return undefined;
  if (r.status !== 0) {
    const why = printable((r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n")[0]!.slice(0, 300));
    throw new InputError({ path: "sshConfig.file", message: `OpenSSH refuses ${file}: ssh -G -F ${file} ${alias} says "${why}"` });
  }
  const line = r.stdout.split("\n").find((l) => l.startsWith("hostname "));
  return line?.slice("hostname ".length).trim();
}

/** The alias's effective HostName, as ssh would use it; refuses a config where the alias's own Host block does not decide it. */
export function switchableHostName(file: string, alias: string): EffectiveHostName & { readonly sshG?: string } {
  const { parsed } = readConfig(file);
  aliasSection(parsed, file, alias);
  let effective: EffectiveHostName;
  try {
    effective = effectiveHostName(file, alias);
  } catch (err) {
    if (err instanceof UnknownEffectiveValue || err instanceof BadClientConfig) {
      throw new InputError({ path: "sshConfig.file", message: `${where(err.at)}: ${printable(err.message)}` });
    }
    throw err;
  }
  const own = effective.ownBlock;
  if (!own) throw new InputError({ path: "sshConfig.alias", message: `"${alias}" is not a Host in ${file}` });
  const from = effective.from;
  if (from && !(from.file === own.file && from.line > own.line && from.line <= own.endLine)) {
    throw new InputError({
      path: "sshConfig.file",
      message: `${where(from)} sets the HostName of ${alias} (${printable(effective.value)}) before its own Host block at ${where(own)} does; ssh uses the first value it obtains (ssh_config(5)), so switching that block would change nothing: move the alias's block above ${where(from)}, or exclude the alias there`,
    });
  }
  const sshG = sshGHostName(file, alias);
  if (sshG !== undefined && sshG !== effective.value) {
    throw new InputError({
      path: "sshConfig.file",
      message: `ssh -G resolves ${alias} to ${printable(sshG)}, but the kit's reading of ${file} gives ${printable(effective.value)}${from ? ` (${where(from)})` : ""}; the kit cannot tell which line ssh follows, so it will not switch`,
    });
  }
  return { ...effective, ...(sshG !== undefined ? { sshG } : {}) };
}

/** The alias's current effective HostName (undefined when no HostName line applies to it). */
export function readHostName(file: string, alias: string): string | undefined {
  const effective = switchableHostName(file, alias);
  return effective.from ? effective.value : undefined;
}

function record(effective: EffectiveHostName & { readonly sshG?: string }): EffectiveHostNameRecord {
  return {
    hostName: effective.value,
    line: effective.from ? where(effective.from) : "(no HostName line)",
    ...(effective.sshG !== undefined ? { sshG: effective.sshG } : {}),
  };
}

export function switchHostName(file: string, alias: string, hostName: string, part: PartNumber, at = new Date()): SwitchoverRecord {
  const current = switchableHostName(file, alias);
  const before = current.from ? current.value : undefined;
  if (before === hostName) {
    return { part, file, alias, before, after: hostName, effective: record(current), at: hkNow(at) };
  }
  const { text, parsed } = readConfig(file);
  const section = aliasSection(parsed, file, alias);
  const line = hostNameLine(section);
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
  // Through a symlink to the file it names: the temporary file and the rename stay in the target's folder.
  const target = realpathSync(file);
  const mode = statSync(target).mode & 0o777;
  const out = SSHConfig.stringify(parsed);
  writeFileAtomic(target, out.endsWith("\n") || !text.endsWith("\n") ? out : `${out}\n`, mode);
  let after: EffectiveHostName & { readonly sshG?: string };
  try {
    after = switchableHostName(file, alias);
    if (after.value !== hostName) {
      throw new InputError({
        path: "sshConfig.file",
        message: `after rewriting ${file}, ${alias} resolves to ${printable(after.value)}${after.from ? ` (${where(after.from)})` : ""}, not ${hostName}`,
      });
    }
  } catch (err) {
    // Nothing half-done: the file goes back to what it was.
    writeFileAtomic(target, text, mode);
    if (err instanceof InputError) {
      throw new InputError(err.problems.map((p) => ({ ...p, message: `${p.message}; the switch was undone (${file} restored)` })));
    }
    throw err;
  }
  return { part, file, alias, before, after: hostName, effective: record(after), backup, at: hkNow(at) };
}
