/**
 * hostkey: the SSH key exchange, with the presented host key checked against
 * the pinned known_hosts entries before anything else is sent. Needs the key
 * exchange the banner phase started (handshake.ts); yields the ssh2 session.
 * The verifier has one accepting path: a match with the pinned key.
 * `hkex-ready trust` records the key and refuses it.
 */
import { PhaseError } from "../../download";
import { timedOut } from "../errors";
import type { ProbePhase } from "../phase";

const causes = [
  "no-common-algorithm",
  "kex-failed",
  "connection-closed",
  "timeout",
  "hostkey-unknown",
  "hostkey-mismatch",
  "hostkey-revoked",
] as const;

export const hostkey: ProbePhase<"hostkey", "handshake", "ssh", typeof causes> = {
  name: "hostkey",
  timeout: "handshakeMs",
  needs: ["handshake"],
  yields: ["ssh"],
  causes,
  inTrustRun: true,
  afterLogin: false,
  activity: "key exchange",
  timeoutError: (ms) => timedOut("hostkey", ms),
  async run({ handshake }) {
    const { ssh, hostKey, offered } = handshake;
    try {
      // A verdict already given outranks an error ssh2 raised after it (for a
      // refusal, or for the key `trust` records and then refuses).
      const given = hostKey.given;
      if (given?.refusal) throw given.refusal;
      if (!given) await ssh.wait<void>((passed, refused) => hostKey.whenGiven(passed, refused));
    } catch (err) {
      const message = (err as Error).message ?? "";
      const lists = /no matching/i.test(message) ? offered.unmatched() : undefined;
      if (lists) {
        throw new PhaseError(
          "no-common-algorithm",
          `key exchange failed: ${message} (the server and this client share no algorithm): ${lists}`,
        );
      }
      throw err;
    }
    return { ssh };
  },
};
