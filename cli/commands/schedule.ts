/** `hkex-ready schedule`: the session calendar and what is due now, in Hong Kong time. */
import { EXIT } from "../exitCodes";
import { renderSchedule, parseNow, scheduleAt } from "../../checks/schedule";

export interface ScheduleOptions {
  readonly now?: string;
  readonly json?: boolean;
}

export async function run(opts: ScheduleOptions): Promise<number> {
  const now = opts.now !== undefined ? parseNow(opts.now) : new Date();
  const status = scheduleAt(now);
  process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : renderSchedule(status));
  return EXIT.ok;
}
