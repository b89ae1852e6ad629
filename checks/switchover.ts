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
 *
 * A site can be on another port (a test facility; the simulator's fallback to
 * 127.0.0.1 with a port per endpoint): the switch then rewrites the alias's
 * Port too, under the same rules, so that ssh reaches the site's endpoint and
 * not another port of the same address.
 */
import { copyFileSync, realpathSync, statSync } from "node:fs";
import { readInputText } from "../core/inputFile";
import { spawnSync } from "node:child_process";
import SSHConfig, { LineType, type Directive, type Section } from "ssh-config";
import { InputError } from "../core/errors";
import { printable } from "../core/text";
import { hkNow } from "../core/time";
import type { PartNumber } from "../catalogue";
import { writeFileAtomic, type EffectiveHostNameRecord, type SwitchoverRecord } from "./report";
import { BadClientConfig, effectiveHostName, UnknownEffectiveValue, where, type ConfigLine, type EffectiveHostName } from "./sshConfig";

/** The alias as the kit and ssh -G see it. */
type Effective = EffectiveHostName & { readonly sshG?: string; readonly sshGPort?: number };

/** Where the switch points the alias: a host, and the port when the kit manages it. */
export interface SwitchTarget {
  readonly host: string;
  readonly port?: number;
}

function readConfig(file: string): { text: string; parsed: ReturnType<typeof SSHConfig.parse> } {
  const text = readInputText(file, "sshConfig.file");
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

function directive(section: Section, keyword: string): Directive | undefined {
  return section.config.find((l) => l.type === LineType.DIRECTIVE && l.param.toLowerCase() === keyword) as Directive | undefined;
}

/** Sets `keyword value` in the alias's block: the line it has, or a new one first in the block. */
function setDirective(section: Section, keyword: string, param: string, value: string): void {
  const line = directive(section, keyword);
  if (line) {
    line.value = value;
    return;
  }
  const indent = (section.config[0] as Directive | undefined)?.before ?? "  ";
  section.config.unshift({ type: LineType.DIRECTIVE, param, separator: " ", value, before: indent, after: "\n" } as Directive);
}

/** `ssh -G -F file alias`'s hostname and port; undefined when no OpenSSH client is installed. */
function sshG(file: string, alias: string): { hostName?: string; port?: number } | undefined {
  const r = spawnSync("ssh", ["-G", "-F", file, alias], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return undefined;
  if (r.status !== 0) {
    const why = printable((r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n")[0]!.slice(0, 300));
    throw new InputError({ path: "sshConfig.file", message: `OpenSSH refuses ${file}: ssh -G -F ${file} ${alias} says "${why}"` });
  }
  const value = (key: string) =>
    r.stdout
      .split("\n")
      .find((l) => l.startsWith(`${key} `))
      ?.slice(key.length + 1)
      .trim();
  const port = value("port");
  return { hostName: value("hostname"), ...(port !== undefined ? { port: Number(port) } : {}) };
}

/** The alias's effective HostName, as ssh would use it; refuses a config where the alias's own Host block does not decide it. */
function switchableHostName(file: string, alias: string): Effective {
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
  const asked = sshG(file, alias);
  if (asked?.hostName !== undefined && asked.hostName !== effective.value) {
    throw new InputError({
      path: "sshConfig.file",
      message: `ssh -G resolves ${alias} to ${printable(asked.hostName)}, but the kit's reading of ${file} gives ${printable(effective.value)}${from ? ` (${where(from)})` : ""}; the kit cannot tell which line ssh follows, so it will not switch`,
    });
  }
  return {
    ...effective,
    ...(asked?.hostName !== undefined ? { sshG: asked.hostName } : {}),
    ...(asked?.port !== undefined ? { sshGPort: asked.port } : {}),
  };
}

function insideOwnBlock(at: ConfigLine, own: NonNullable<EffectiveHostName["ownBlock"]>): boolean {
  return at.file === own.file && at.line > own.line && at.line <= own.endLine;
}

/**
 * Why the alias's Port cannot be switched to `port`, or undefined when it can
 * (it is that port already, or the Port line that wins is the alias's own, or
 * none applies and one can be added to its block).
 */
function portSwitchProblem(effective: Effective, file: string, alias: string, port: number): string | undefined {
  const own = effective.ownBlock!;
  if (effective.portUnknown) {
    return `the Port at ${where(effective.portUnknown)} is under a condition the kit cannot evaluate (Match exec, localnetwork, version, command or sessiontype), so the kit cannot tell which Port ssh uses for ${alias}, and switching it to ${port} might change nothing`;
  }
  if (effective.sshGPort !== undefined && effective.sshGPort !== effective.port) {
    return `ssh -G gives ${alias} port ${effective.sshGPort}, but the kit's reading of ${file} gives ${effective.port}; the kit cannot tell which line ssh follows, so it will not switch the port`;
  }
  if (effective.port === port) return undefined;
  const from = effective.portFrom;
  if (from && !insideOwnBlock(from, own)) {
    return `${where(from)} sets the Port of ${alias} (${effective.port}) before its own Host block at ${where(own)} does; the site is on port ${port}, and ssh uses the first value it obtains (ssh_config(5)), so switching that block would change nothing: move the alias's block above ${where(from)}, or exclude the alias there`;
  }
  return undefined;
}

/**
 * Refuses, before anything is contacted, a client config the session could
 * not switch to every one of `targets` (the first host of each site).
 */
export function checkSwitchable(file: string, alias: string, targets: readonly SwitchTarget[]): void {
  const effective = switchableHostName(file, alias);
  for (const port of new Set(targets.map((t) => t.port).filter((p): p is number => p !== undefined))) {
    const problem = portSwitchProblem(effective, file, alias, port);
    if (problem) throw new InputError({ path: "sshConfig.file", message: problem });
  }
}

/** The alias's current effective HostName (undefined when no HostName line applies to it). */
export function readHostName(file: string, alias: string): string | undefined {
  const effective = switchableHostName(file, alias);
  return effective.from ? effective.value : undefined;
}

/** The alias's current effective HostName (undefined without a HostName line) and Port, as ssh uses them. */
export function readHostAndPort(file: string, alias: string): { host: string | undefined; port: number } {
  const effective = switchableHostName(file, alias);
  return { host: effective.from ? effective.value : undefined, port: effective.port };
}

function record(effective: Effective): EffectiveHostNameRecord {
  return {
    hostName: effective.value,
    line: effective.from ? where(effective.from) : "(no HostName line)",
    ...(effective.sshG !== undefined ? { sshG: effective.sshG } : {}),
    port: effective.port,
    ...(effective.sshGPort !== undefined ? { sshGPort: effective.sshGPort } : {}),
  };
}

/**
 * Points the alias at `target`: its HostName, and its Port when the target
 * gives one that differs. `to` may be a bare host name (HostName only).
 */
export function switchHostName(
  file: string,
  alias: string,
  to: string | SwitchTarget,
  part: PartNumber,
  at = new Date(),
): SwitchoverRecord {
  const { host: hostName, port } = typeof to === "string" ? { host: to, port: undefined } : to;
  const current = switchableHostName(file, alias);
  const before = current.from ? current.value : undefined;
  const ports = port !== undefined ? { portBefore: current.port, portAfter: port } : {};
  if (port !== undefined) {
    const problem = portSwitchProblem(current, file, alias, port);
    if (problem) throw new InputError({ path: "sshConfig.file", message: problem });
  }
  if (before === hostName && (port === undefined || current.port === port)) {
    return { part, file, alias, before, after: hostName, ...ports, effective: record(current), at: hkNow(at) };
  }
  const { text, parsed } = readConfig(file);
  const section = aliasSection(parsed, file, alias);
  if (port !== undefined && current.port !== port) setDirective(section, "port", "Port", String(port));
  if (before !== hostName) setDirective(section, "hostname", "HostName", hostName);
  const backup = `${file}.bak-${hkNow(at).replace(/[:.]/g, "").replace(/\+.*$/, "")}`;
  copyFileSync(file, backup);
  // Through a symlink to the file it names: the temporary file and the rename stay in the target's folder.
  const target = realpathSync(file);
  const mode = statSync(target).mode & 0o777;
  const out = SSHConfig.stringify(parsed);
  writeFileAtomic(target, out.endsWith("\n") || !text.endsWith("\n") ? out : `${out}\n`, mode);
  let after: Effective;
  try {
    after = switchableHostName(file, alias);
    if (after.value !== hostName) {
      throw new InputError({
        path: "sshConfig.file",
        message: `after rewriting ${file}, ${alias} resolves to ${printable(after.value)}${after.from ? ` (${where(after.from)})` : ""}, not ${hostName}`,
      });
    }
    const sshPort = after.sshGPort ?? after.port;
    if (port !== undefined && (after.port !== port || sshPort !== port)) {
      throw new InputError({
        path: "sshConfig.file",
        message: `after rewriting ${file}, ${alias} connects to port ${after.port !== port ? after.port : sshPort}${after.portFrom ? ` (${where(after.portFrom)})` : ""}, not ${port}`,
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
  return { part, file, alias, before, after: hostName, ...ports, effective: record(after), backup, at: hkNow(at) };
}
