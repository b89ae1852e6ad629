/** sftp: opens the SFTP subsystem channel. Needs the ssh2 session; yields the SFTP channel. */
import type { SFTPWrapper } from "ssh2";
import { PhaseError } from "../../download";
import { timedOut, unlessConnectionEnded } from "../errors";
import type { ProbePhase } from "../phase";

const causes = ["sftp-refused", "timeout", "connection-lost"] as const;

export const sftp: ProbePhase<"sftp", "ssh", "sftp", typeof causes> = {
  name: "sftp",
  timeout: "operationMs",
  needs: ["ssh"],
  yields: ["sftp"],
  causes,
  inTrustRun: false,
  afterLogin: true,
  timeoutError: (ms) => timedOut("sftp", ms),
  connectionSurvives: unlessConnectionEnded,
  async run({ ssh }, ctx) {
    const channel = await ssh.wait<SFTPWrapper>((ok, fail) =>
      ssh.client.sftp((err, s) => {
        if (!err) return ok(s);
        fail(
          /subsystem/i.test(err.message)
            ? new PhaseError("sftp-refused", `the server refused the SFTP subsystem (${err.message})`)
            : ctx.sshError(err),
        );
      }),
    );
    return { sftp: channel };
  },
};
