/**
 * The probe's phases, in the order they run. The report's phase list and its
 * cause codes are derived from this table: adding a phase is one entry here
 * and its file in phases/.
 */
import { auth } from "./phases/auth";
import { banner } from "./phases/banner";
import { download } from "./phases/download";
import { hostkey } from "./phases/hostkey";
import { list } from "./phases/list";
import { logout } from "./phases/logout";
import { sftp } from "./phases/sftp";
import { tcp } from "./phases/tcp";

/** Causes the runner itself gives, whatever the phase (checks/probe/runner.ts). */
export const RUNNER_CAUSES = ["earlier-phase-failed", "interrupted", "error"] as const;

export const PHASE_TABLE = [tcp, banner, hostkey, auth, sftp, list, download, logout] as const;

export type PhaseName = (typeof PHASE_TABLE)[number]["name"];

/** Every cause a phase result can carry: what the phases declare, and what the runner adds. */
export type CauseCode = (typeof PHASE_TABLE)[number]["causes"][number] | (typeof RUNNER_CAUSES)[number];

export const PHASES: readonly PhaseName[] = Object.freeze(PHASE_TABLE.map((p) => p.name));

export const CAUSE_CODES: readonly CauseCode[] = Object.freeze([
  ...new Set<CauseCode>([...PHASE_TABLE.flatMap((p): readonly CauseCode[] => p.causes), ...RUNNER_CAUSES]),
]);
