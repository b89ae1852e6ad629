/** `hkex-ready schedule`: the session calendar and what is due now, in Hong Kong time. */
import { SESSION_DAYS } from "../../catalogue";
import { loadConfig } from "../../checks/config";
import { renderSchedule, parseNow, scheduleAt } from "../../checks/schedule";
import { EXIT } from "../exitCodes";

export interface ScheduleOptions {
  /** A config whose `sessionDays` give the calendar; the catalogue's days without it. */
  readonly config?: string;
  readonly now?: string;
  readonly json?: boolean;
}

export async function run(opts: ScheduleOptions): Promise<number> {
  const now = opts.now !== undefined ? parseNow(opts.now) : new Date();
  const days = opts.config !== undefined ? loadConfig(opts.config).sessionDays : SESSION_DAYS;
  const status = scheduleAt(now, days);
  process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : renderSchedule(status));
  return EXIT.ok;
}
