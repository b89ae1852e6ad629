/** The confirmation e-mail, from the circular's prescribed template. */
import { DateTime } from "luxon";
import { EMAIL_TEMPLATE } from "../catalogue";

export interface ConfirmationEmail {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/** Put before the subject of a rehearsal's e-mail, so that no mail client sends it unnoticed. */
export const REHEARSAL_SUBJECT_PREFIX = "[REHEARSAL - DO NOT SEND] ";

/** The first line of a rehearsal's e-mail body. */
export function rehearsalNotice(reason: string): string {
  return `REHEARSAL - DO NOT SEND. This is not a confirmation: the run was a rehearsal (${reason}). It shows what the e-mail will say after the real session.`;
}

/** "2024-11-30" → "30 November 2024", in place of the template's "[] November 2024". */
export function fillDate(text: string, isoDate: string): string {
  const d = DateTime.fromISO(isoDate, { zone: "UTC" });
  if (!d.isValid) throw new Error(`not a date: ${isoDate}`);
  return text.replace(EMAIL_TEMPLATE.datePlaceholder, d.setLocale("en-GB").toFormat("d MMMM yyyy"));
}

export function confirmationEmail(args: {
  date: string;
  completed: boolean;
  reasons: readonly string[];
  participant?: string;
  /** Why the run is a rehearsal: the e-mail is then a draft marked not to send. */
  rehearsal?: string;
}): ConfirmationEmail {
  const lines = args.completed
    ? [fillDate(EMAIL_TEMPLATE.completed, args.date)]
    : [
        fillDate(EMAIL_TEMPLATE.notCompleted, args.date),
        "",
        ...(args.reasons.length > 0 ? args.reasons : ["(no reason recorded)"]).map((r) => `- ${r}`),
      ];
  if (args.participant) lines.push("", args.participant);
  if (args.rehearsal) lines.unshift(rehearsalNotice(args.rehearsal), "");
  const subject = `${args.rehearsal ? REHEARSAL_SUBJECT_PREFIX : ""}${EMAIL_TEMPLATE.subject}`;
  return { to: EMAIL_TEMPLATE.to, subject, body: `${lines.join("\n")}\n` };
}

/** confirmation-email.txt: ready to paste into a mail client (a rehearsal's says, first, not to send it). */
export function confirmationText(email: ConfirmationEmail): string {
  return `To: ${email.to}\nSubject: ${email.subject}\n\n${email.body}`;
}
