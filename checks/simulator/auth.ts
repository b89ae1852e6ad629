/**
 * Public key authentication as sshd does it: the offered key must be one of
 * the authorised keys, and the signature over the session must verify with it.
 * A request without a signature only asks whether the key would do, so it is
 * answered (PK_OK) without logging the client in.
 */
import { timingSafeEqual } from "node:crypto";
import type { AuthContext, ParsedKey } from "ssh2";
import { InputError, type InputProblem } from "../../core/errors";
import { parseOneKey } from "./keys";

export function parseAuthorizedKeys(lines: readonly string[]): ParsedKey[] {
  const problems: InputProblem[] = [];
  const keys: ParsedKey[] = [];
  lines.forEach((line, i) => {
    try {
      const key = parseOneKey(line.trim(), `authorizedKeys[${i}]`);
      if (key.isPrivateKey()) throw new Error("is a private key; give the public key line (ssh-ed25519 AAAA…)");
      keys.push(key);
    } catch (err) {
      problems.push({ path: `authorizedKeys[${i}]`, message: (err as Error).message.replace(/^authorizedKeys\[\d+\]: /, "") });
    }
  });
  if (lines.length === 0) problems.push({ path: "authorizedKeys", message: "must list at least one public key" });
  if (problems.length > 0) throw new InputError(problems);
  return keys;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export type AuthDecision = "accept" | "key-ok" | "reject";

/** What to answer to one authentication request. */
export function decideAuth(ctx: AuthContext, user: string, keys: readonly ParsedKey[]): AuthDecision {
  if (ctx.method !== "publickey" || ctx.username !== user) return "reject";
  const key = keys.find((k) => k.type === ctx.key.algo && sameBytes(k.getPublicSSH(), ctx.key.data));
  if (key === undefined) return "reject";
  if (ctx.signature === undefined || ctx.blob === undefined) return "key-ok";
  return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? "accept" : "reject";
}
