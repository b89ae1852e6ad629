/** auth: public-key login as the configured user. Needs the ssh2 session; yields nothing new. */
import { PhaseError } from "../../download";
import { printable } from "../../../core/text";
import { timedOut } from "../errors";
import type { PhaseContext, ProbePhase } from "../phase";

const causes = ["auth-rejected", "passphrase-missing", "passphrase-wrong", "timeout", "connection-closed"] as const;

export const auth: ProbePhase<"auth", "ssh", never, typeof causes> = {
  name: "auth",
  timeout: "handshakeMs",
  needs: ["ssh"],
  yields: [],
  causes,
  inTrustRun: false,
  afterLogin: false,
  timeoutError: (ms) => timedOut("auth", ms),
  async run({ ssh }, ctx) {
    try {
      await ssh.wait<void>((ok) => void ssh.ready.then(ok));
    } catch (err) {
      throw loginFailure(err, ctx);
    }
    return {};
  },
};

function loginFailure(err: unknown, ctx: PhaseContext): PhaseError {
  const { key, user } = ctx.opts;
  if (key.problem) return new PhaseError(key.problem.code, `cannot log in: ${key.problem.message}`);
  const e = ctx.sshError(err);
  if (e.code !== "auth-rejected") return e;
  return new PhaseError(
    "auth-rejected",
    `server rejected publickey login for user "${printable(user)}"${key.fingerprint ? ` with key ${key.fingerprint}` : ""}: check the user ID and that HKEX has this key`,
  );
}
