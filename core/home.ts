/**
 * Tilde expansion as OpenSSH does it (misc.c `tilde_expand`, used for the
 * path keywords of ssh_config(5): "may use the tilde syntax to refer to a
 * user's home directory"). "~" and "~/path" are the home directory of the
 * current user as the password database has it (getpwuid, not $HOME);
 * "~user/path" is that user's (getpwnam). Anything else is left alone.
 */
import { execFileSync } from "node:child_process";
import { userInfo } from "node:os";

/** Where home directories come from; tests pass their own. */
export interface HomeDirectories {
  /** The current user's home directory. */
  self(): string;
  /** The home directory of `name`, or undefined when there is no such user. */
  user(name: string): string | undefined;
}

/** The OS user database: getpwuid_r through Node, getpwnam through getent(1) (glibc and musl ship it). */
export const OS_HOMES: HomeDirectories = {
  self() {
    try {
      return userInfo().homedir;
    } catch {
      throw new Error("the current user has no entry in the user database, so ~ has no home directory to mean");
    }
  },
  user(name) {
    let line: string;
    try {
      line = execFileSync("getent", ["passwd", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
    } catch (err) {
      // getent exits 2 for "no such key"; ENOENT means there is no getent to ask.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new Error(`cannot look up user "${name}": getent is not installed; write the path in full`);
      }
      return undefined;
    }
    const home = line.split("\n")[0]?.split(":")[5];
    return home === undefined || home === "" ? undefined : home;
  },
};

/**
 * The path with a leading "~", "~/", "~user" or "~user/" replaced, as OpenSSH
 * would. Throws an Error whose message says why when it cannot be expanded.
 */
export function expandTilde(path: string, homes: HomeDirectories = OS_HOMES): string {
  if (!path.startsWith("~")) return path;
  const slash = path.indexOf("/");
  const name = slash === -1 ? path.slice(1) : path.slice(1, slash);
  const rest = slash === -1 ? "" : path.slice(slash).replace(/^\/+/, "");
  let home: string | undefined;
  if (name === "") home = homes.self();
  else {
    if (!/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(name)) throw new Error(`"~${name}" is not a user name`);
    home = homes.user(name);
    if (home === undefined) throw new Error(`no such user "${name}" (from "~${name}")`);
  }
  // tilde_expand joins with exactly one "/" and keeps the rest as written.
  return `${home}${home.endsWith("/") ? "" : "/"}${rest}`;
}
