/**
 * logout: ends the session cleanly. Needs the ssh2 session; yields nothing.
 * A clean-up phase: it also runs after an sftp, list or download failure the
 * connection survived.
 */
import { timedOut } from "../errors";
import type { ProbePhase } from "../phase";

const causes = ["timeout", "connection-lost"] as const;

export const logout: ProbePhase<"logout", "ssh", never, typeof causes> = {
  name: "logout",
  timeout: "operationMs",
  needs: ["ssh"],
  yields: [],
  causes,
  inTrustRun: false,
  afterLogin: true,
  cleanup: true,
  timeoutError: (ms) => timedOut("logout", ms),
  async run({ ssh }, ctx) {
    if (ssh.pendingError) throw ctx.sshError(ssh.pendingError);
    await ssh.end();
    return {};
  },
};
