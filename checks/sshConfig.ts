/**
 * The HostName OpenSSH's ssh uses for an alias, computed as `ssh -G` does it
 * (readconf.c, ssh.c), together with the file and line that set it.
 *
 * ssh_config(5): "for each parameter, the first obtained value will be used";
 * lines before the first Host or Match apply to every host; a `Host` line
 * applies when one of its patterns matches the alias and none of its negated
 * ones does (case-sensitive `*` and `?` globs, readconf.c oHost); a `Match`
 * line when all of its criteria hold (readconf.c match_cfg_line); `Include`
 * reads files in place, relative paths from ~/.ssh (the -F file is a user
 * configuration), globs expanded in lexical order, an Include under a block
 * that does not apply reads the file but applies nothing, and the block's
 * state is restored after it; included files that are writable by group or
 * others are refused as ssh refuses them ("Bad owner or permissions").
 *
 * The ssh-config package parses and rewrites the file (switchover.ts), but its
 * compute() cannot say which line won, has no Include, matches `?` as
 * "zero or one" and runs `Match exec` commands: this module follows
 * readconf.c instead, line by line.
 *
 * Match criteria evaluated: all, host, originalhost, user, localuser, tagged,
 * canonical and final (false in the first pass, which alone decides HostName:
 * ssh fixes the HostName before any final pass). Not evaluated, because they
 * depend on running a command, the network interfaces, the ssh version or the
 * command ssh is asked to run: exec, localnetwork, version, command,
 * sessiontype. A block under such a criterion is "unknown": a HostName (or
 * User or Tag that a later Match depends on) that would be the first obtained
 * value inside it makes the result unknown, and the caller refuses. DNS-based
 * CanonicalizeHostname is not evaluated (it does not change an IP address).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { hostname as localHostName, userInfo } from "node:os";
import { isAbsolute, join } from "node:path";
import picomatch from "picomatch";
import { expandTilde, OS_HOMES, type HomeDirectories } from "../core/home";

/** readconf.c READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;

export interface ConfigLine {
  readonly file: string;
  /** 1-based, as ssh reports it. */
  readonly line: number;
}

export interface EffectiveHostName {
  /** The alias's host name as ssh -G prints it: %h expanded, lower case unless an IP address; the alias itself when no HostName applies. */
  readonly value: string;
  /** The HostName line that won, when one applies. */
  readonly from?: ConfigLine;
  /** The alias's own block (the first `Host` line of the top file naming it), when there is one. */
  readonly ownBlock?: ConfigLine & { readonly endLine: number };
  /** The alias's effective Port, as ssh -G prints it (22 when no Port line applies). */
  readonly port: number;
  /** The Port line that won, when one applies. */
  readonly portFrom?: ConfigLine;
  /** A Port under a condition the kit cannot evaluate that may win: the effective Port is then unknown. */
  readonly portUnknown?: ConfigLine;
}

/** ssh's default port (ssh_config(5) Port). */
const SSH_DEFAULT_PORT = 22;

/** Why the kit cannot say which HostName ssh would use. */
export class UnknownEffectiveValue extends Error {
  constructor(
    message: string,
    readonly at: ConfigLine,
  ) {
    super(message);
    this.name = "UnknownEffectiveValue";
  }
}

/** A problem ssh itself would refuse the config for (bad Match, bad quotes, unreadable Include, unsafe Include). */
export class BadClientConfig extends Error {
  constructor(
    message: string,
    readonly at: ConfigLine,
  ) {
    super(message);
    this.name = "BadClientConfig";
  }
}

export interface EvaluationContext {
  /** Home directories, for "~" and for relative Include paths (~/.ssh). */
  readonly homes?: HomeDirectories;
  /** The local user name (Match localuser, the default for Match user, %u). */
  readonly localUser?: string;
  /** For ${VAR} in Include paths. */
  readonly env?: NodeJS.ProcessEnv;
}

type Tri = boolean | "unknown";

/** A line split as ssh splits it: the keyword (lower case) and its arguments (readconf.c strdelim, misc.c argv_split). */
function splitConfigLine(text: string): { keyword: string; args: string[] } | undefined | "bad-quotes" {
  const line = text.replace(/[ \t\f\r\n]+$/, "");
  const m = /^[ \t]*([^ \t="]+)[ \t]*(?:=[ \t]*)?(.*)$/.exec(line);
  if (!m || m[1]!.startsWith("#")) return undefined;
  const args = argvSplit(m[2]!);
  if (args === undefined) return "bad-quotes";
  return { keyword: m[1]!.toLowerCase(), args };
}

/** misc.c argv_split(…, terminate_on_comment=1): quotes, backslash escapes, a '#' starting an argument ends the line. */
function argvSplit(s: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === " " || s[i] === "\t") {
      i++;
      continue;
    }
    if (s[i] === "#") break;
    let quote = "";
    let arg = "";
    for (; i < s.length; i++) {
      const c = s[i]!;
      const next = s[i + 1];
      if (c === "\\") {
        if (next === "'" || next === '"' || next === "\\" || (quote === "" && next === " ")) {
          i++;
          arg += next;
        } else arg += c;
      } else if (quote === "" && (c === " " || c === "\t")) break;
      else if (quote === "" && (c === '"' || c === "'")) quote = c;
      else if (quote !== "" && c === quote) quote = "";
      else arg += c;
    }
    if (quote !== "") return undefined;
    out.push(arg);
  }
  return out;
}

/** match.c match_pattern: the whole string against `*` and `?`. */
function matchPattern(s: string, pattern: string): boolean {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[\\s\\S]*")
    .replace(/\?/g, "[\\s\\S]");
  return new RegExp(`^${body}$`).test(s);
}

/** match.c match_pattern_list: comma-separated, "!" negates; 1 only for a positive match and no negated one. */
function matchPatternList(s: string, list: string, lower: boolean): boolean {
  const subject = lower ? s.toLowerCase() : s;
  let positive = false;
  for (const raw of list.split(",")) {
    const negated = raw.startsWith("!");
    const pattern = lower ? (negated ? raw.slice(1) : raw).toLowerCase() : negated ? raw.slice(1) : raw;
    if (matchPattern(subject, pattern)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** ssh_config(5) TOKENS in HostName: only %h (the alias) and %%. */
function expandHostName(raw: string, alias: string, at: ConfigLine): string {
  return raw.replace(/%(.)/g, (_, c: string) => {
    if (c === "h") return alias;
    if (c === "%") return "%";
    throw new BadClientConfig(`HostName "${raw}" uses %${c}; HostName accepts only %h and %%`, at);
  });
}

const IP_LIKE = /^[0-9.]+$|:/;

interface State {
  hostName?: { raw: string; at: ConfigLine };
  /** An earlier HostName that may or may not have applied. */
  hostNameUnknown?: ConfigLine;
  user?: string;
  userUnknown?: ConfigLine;
  tag?: string;
  tagUnknown?: ConfigLine;
  port?: { raw: string; at: ConfigLine };
  portUnknown?: ConfigLine;
  ownBlock?: ConfigLine & { endLine: number };
}

class Evaluator {
  readonly state: State = {};
  private readonly homes: HomeDirectories;
  private readonly localUser: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly alias: string,
    private readonly topFile: string,
    ctx: EvaluationContext,
  ) {
    this.homes = ctx.homes ?? OS_HOMES;
    this.localUser = ctx.localUser ?? safeUserName();
    this.env = ctx.env ?? process.env;
  }

  /** The host name so far, as Match host sees it (readconf.c match_cfg_line: %h expanded, first pass). */
  private currentHost(at: ConfigLine): string {
    if (this.state.hostNameUnknown) throw this.unknownFrom(this.state.hostNameUnknown, at, "a HostName");
    return this.state.hostName ? expandHostName(this.state.hostName.raw, this.alias, this.state.hostName.at) : this.alias;
  }

  private unknownFrom(source: ConfigLine, at: ConfigLine, what: string): UnknownEffectiveValue {
    return new UnknownEffectiveValue(
      `the Match at ${where(at)} depends on ${what} set at ${where(source)} under a condition the kit cannot evaluate`,
      at,
    );
  }

  /** Reads one file; `active` is the state of the block the file is read in (Include). */
  readFile(file: string, depth: number, active: Tri, neverMatch: Tri): Tri {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // readconf.c: an Include'd file that vanished between glob and open is skipped.
      if (depth > 0 && code === "ENOENT") return active;
      throw new BadClientConfig(`cannot read ${file}: ${code ?? (err as Error).message}`, { file, line: 0 });
    }
    const lines = text.split("\n");
    for (const [i, raw] of lines.entries()) {
      const at = { file, line: i + 1 };
      const split = splitConfigLine(raw);
      if (split === undefined) continue;
      if (split === "bad-quotes") throw new BadClientConfig("invalid quotes", at);
      const { keyword, args } = split;
      if (args.length === 0) throw new BadClientConfig(`no argument after keyword "${keyword}"`, at);
      switch (keyword) {
        case "host": {
          active = this.hostLine(args, neverMatch);
          if (depth === 0 && file === this.topFile) {
            if (this.state.ownBlock && this.state.ownBlock.endLine === Number.POSITIVE_INFINITY) this.state.ownBlock.endLine = i;
            if (!this.state.ownBlock && args.includes(this.alias)) this.state.ownBlock = { ...at, endLine: Number.POSITIVE_INFINITY };
          }
          break;
        }
        case "match": {
          if (depth === 0 && file === this.topFile && this.state.ownBlock?.endLine === Number.POSITIVE_INFINITY) {
            this.state.ownBlock.endLine = i;
          }
          const result = this.matchLine(args, at);
          active = neverMatch === true ? false : neverMatch === "unknown" && result !== false ? "unknown" : result;
          break;
        }
        case "include":
          this.include(args, at, depth, active, neverMatch);
          break;
        case "hostname":
          this.obtain(active, at, args[0]!, "hostName");
          break;
        case "user":
          this.obtain(active, at, args[0]!, "user");
          break;
        case "tag":
          this.obtain(active, at, args[0]!, "tag");
          break;
        case "port":
          this.obtain(active, at, args[0]!, "port");
          break;
        default:
          break;
      }
    }
    if (depth === 0 && this.state.ownBlock?.endLine === Number.POSITIVE_INFINITY) this.state.ownBlock.endLine = lines.length;
    return active;
  }

  /**
   * First obtained value wins (ssh_config(5)). A value under a condition the
   * kit cannot evaluate, before any certain one, leaves the option unknown.
   */
  private obtain(active: Tri, at: ConfigLine, value: string, key: "hostName" | "user" | "tag" | "port"): void {
    const unknownKey = `${key}Unknown` as const;
    if (active === false || this.state[key] !== undefined || this.state[unknownKey] !== undefined) return;
    if (active === "unknown") this.state[unknownKey] = at;
    else if (key === "hostName" || key === "port") this.state[key] = { raw: value, at };
    else this.state[key] = value;
  }

  private hostLine(args: readonly string[], neverMatch: Tri): Tri {
    if (neverMatch === true) return false;
    let matched = false;
    for (const arg of args) {
      const negated = arg.startsWith("!");
      if (matchPattern(this.alias, negated ? arg.slice(1) : arg)) {
        if (negated) return false;
        matched = true;
      }
    }
    return matched && neverMatch === "unknown" ? "unknown" : matched;
  }

  private matchLine(args: readonly string[], at: ConfigLine): Tri {
    let result: Tri = true;
    let attributes = 0;
    const list = [...args];
    while (list.length > 0) {
      const oattrib = list.shift()!;
      const negated = oattrib.startsWith("!");
      let attrib = negated ? oattrib.slice(1) : oattrib;
      const lower = attrib.toLowerCase();
      if (lower === "all") {
        if (attributes > 0 || list.length > 0) throw new BadClientConfig(`Match "${oattrib}" cannot be combined with other criteria`, at);
        return negated ? false : result;
      }
      attributes++;
      if (lower === "canonical" || lower === "final") {
        // The first pass, which decides HostName: neither holds.
        if (!negated) result = false;
        continue;
      }
      let arg: string | undefined;
      const eq = attrib.indexOf("=");
      if (eq > 0) {
        arg = attrib.slice(eq + 1);
        attrib = attrib.slice(0, eq);
      } else arg = list.shift();
      if (arg === undefined) throw new BadClientConfig(`missing argument for Match "${oattrib}"`, at);
      const holds = this.criterion(attrib.toLowerCase(), arg, at, result === false);
      const value: Tri = holds === "unknown" ? "unknown" : holds !== negated;
      if (value === false) result = false;
      else if (value === "unknown" && result === true) result = "unknown";
    }
    return result;
  }

  private criterion(attrib: string, arg: string, at: ConfigLine, alreadyFalse: boolean): Tri {
    switch (attrib) {
      case "host":
        return matchPatternList(this.currentHost(at), arg, true);
      case "originalhost":
        return matchPatternList(this.alias, arg, true);
      case "user":
        if (this.state.userUnknown) throw this.unknownFrom(this.state.userUnknown, at, "a User");
        return matchPatternList(this.state.user ?? this.localUser, arg, false);
      case "localuser":
        return matchPatternList(this.localUser, arg, false);
      case "tagged": {
        if (this.state.tagUnknown) throw this.unknownFrom(this.state.tagUnknown, at, "a Tag");
        const tag = this.state.tag ?? "";
        return tag === "" ? arg === "" : matchPatternList(tag, arg, false);
      }
      case "exec":
        // readconf.c: exec is not run once an earlier criterion failed.
        return alreadyFalse ? false : "unknown";
      case "localnetwork":
      case "version":
      case "command":
      case "sessiontype":
        return "unknown";
      default:
        throw new BadClientConfig(`unsupported Match attribute "${attrib}"`, at);
    }
  }

  private include(args: readonly string[], at: ConfigLine, depth: number, active: Tri, neverMatch: Tri): void {
    if (depth + 1 > MAX_INCLUDE_DEPTH) throw new BadClientConfig("too many nested Include files", at);
    for (const arg of args) {
      const expanded = this.expandIncludePath(arg, at);
      if (expanded === undefined) continue;
      const pattern = isAbsolute(expanded) || expanded.startsWith("~") ? expanded : `~/.ssh/${expanded}`;
      let path: string;
      try {
        path = expandTilde(pattern, this.homes);
      } catch (err) {
        throw new BadClientConfig(`Include "${arg}": ${(err as Error).message}`, at);
      }
      const included =
        neverMatch === true || active === false ? true : active === "unknown" || neverMatch === "unknown" ? "unknown" : false;
      for (const file of globFiles(path)) {
        checkIncludePermissions(file, at);
        // The included file starts in the including block's state, and does not change it (readconf.c).
        this.readFile(file, depth + 1, active, included);
      }
    }
  }

  /** readconf.c expand_match_exec_or_include_path: ${VAR} and the tokens that need no connection. */
  private expandIncludePath(arg: string, at: ConfigLine): string | undefined {
    let missingVar = false;
    const withEnv = arg.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = this.env[name];
      if (v === undefined) missingVar = true;
      return v ?? "";
    });
    // ssh skips an Include whose variable is not set ("Unable to expand user config file").
    if (missingVar) return undefined;
    return withEnv.replace(/%(.)/g, (_, c: string) => {
      switch (c) {
        case "%":
          return "%";
        case "d":
          return this.homes.self();
        case "u":
          return this.localUser;
        case "h":
          return this.currentHost(at);
        case "n":
          return this.alias;
        case "r":
          if (this.state.userUnknown) throw this.unknownFrom(this.state.userUnknown, at, "a User");
          return this.state.user ?? this.localUser;
        case "i":
          return String(process.getuid?.() ?? "");
        case "l":
          return localHostName();
        case "L":
          return localHostName().split(".")[0]!;
        default:
          throw new UnknownEffectiveValue(`Include "${arg}" at ${where(at)} uses %${c}, which the kit does not expand`, at);
      }
    });
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "";
  }
}

export function where(at: ConfigLine): string {
  return `${at.file}:${at.line}`;
}

/** glob(3) as readconf.c calls it: `*`, `?` and `[…]` per path segment, no leading-dot matches, sorted; nothing when nothing matches. */
function globFiles(pattern: string): string[] {
  const segments = pattern.split("/");
  let paths = [segments[0] === "" ? "/" : segments[0]!];
  for (const segment of segments.slice(1)) {
    if (segment === "") continue;
    const next: string[] = [];
    for (const base of paths) {
      if (!/[*?[]/.test(segment)) {
        next.push(join(base, segment));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      const isMatch = picomatch(segment, { dot: false, nobrace: true, noextglob: true });
      for (const name of names.filter((n) => isMatch(n)).sort()) next.push(join(base, name));
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/** readconf.c read_config_file_depth with SSHCONF_CHECKPERM: owned by root or the user, not writable by group or others. */
function checkIncludePermissions(file: string, at: ConfigLine): void {
  const st = statSync(file);
  const uid = process.getuid?.();
  if ((uid !== undefined && st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new BadClientConfig(`${file} (included at ${where(at)}) has bad owner or permissions; ssh refuses it: chmod go-w ${file}`, at);
  }
}

/**
 * The alias's effective HostName in `file` (read as `ssh -F file`), with the
 * line that set it. Throws UnknownEffectiveValue when a condition the kit
 * cannot evaluate decides it, BadClientConfig when ssh would refuse the file.
 */
export function effectiveHostName(file: string, alias: string, ctx: EvaluationContext = {}): EffectiveHostName {
  const evaluator = new Evaluator(alias, file, ctx);
  evaluator.readFile(file, 0, true, false);
  const { hostName, hostNameUnknown, ownBlock } = evaluator.state;
  if (hostNameUnknown) {
    throw new UnknownEffectiveValue(
      `the HostName at ${where(hostNameUnknown)} is under a condition the kit cannot evaluate (Match exec, localnetwork, version, command or sessiontype), so the kit cannot tell which HostName ssh uses for ${alias}`,
      hostNameUnknown,
    );
  }
  const block = { ...(ownBlock ? { ownBlock: { ...ownBlock } } : {}), ...effectivePort(evaluator.state) };
  if (!hostName) return { value: IP_LIKE.test(alias) ? alias : alias.toLowerCase(), ...block };
  const expanded = expandHostName(hostName.raw, alias, hostName.at);
  // ssh.c lowercases a host name that is not an address.
  const value = IP_LIKE.test(expanded) ? expanded : expanded.toLowerCase();
  return { value, from: hostName.at, ...block };
}

/** The Port the evaluation obtained (readconf.c oPort: a number 1-65535), or ssh's default. */
function effectivePort(state: State): Pick<EffectiveHostName, "port" | "portFrom" | "portUnknown"> {
  if (state.portUnknown) return { port: SSH_DEFAULT_PORT, portUnknown: state.portUnknown };
  if (!state.port) return { port: SSH_DEFAULT_PORT };
  const port = /^\d+$/.test(state.port.raw) ? Number(state.port.raw) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new BadClientConfig(`Port "${state.port.raw}" is not a port number (1-65535)`, state.port.at);
  return { port, portFrom: state.port.at };
}
