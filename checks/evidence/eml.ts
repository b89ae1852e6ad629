/**
 * confirmation.eml: the confirmation e-mail as an RFC 5322 message, composed
 * with nodemailer's MailComposer from the text checks/email.ts builds word for
 * word from the circular's template. Sending stays manual unless the config
 * has `smtp`; then nodemailer's SMTP transport sends the very same bytes.
 */
// nodemailer is loaded when an e-mail is written, not on every start of the CLI.
import type NodemailerModule from "nodemailer";
import type MailComposerClass from "nodemailer/lib/mail-composer";
import type { Config } from "../config";
import type { ConfirmationEmail } from "../email";

export interface EmlAttachment {
  readonly filename: string;
  readonly content: string | Buffer;
  readonly contentType: string;
}

export interface EmlOptions {
  /** The sender (config `email.from`). */
  readonly from: string;
  /** Shown as the sender's name (config `email.participant`). */
  readonly participant?: string;
  readonly attachments?: readonly EmlAttachment[];
  readonly date?: Date;
  /**
   * A rehearsal's e-mail: marked as a draft not to send. `X-Unsent: 1` makes
   * Outlook and other clients open it as an unsent draft rather than as mail
   * that was sent; the subject and the first line of the body say it too.
   */
  readonly draft?: boolean;
}

export async function composeConfirmation(email: ConfirmationEmail, opts: EmlOptions): Promise<Buffer> {
  const MailComposer = require("nodemailer/lib/mail-composer") as { default?: typeof MailComposerClass } & typeof MailComposerClass;
  const Composer = MailComposer.default ?? MailComposer;
  const composer = new Composer({
    from: opts.participant ? { name: opts.participant, address: opts.from } : opts.from,
    to: email.to,
    subject: email.subject,
    text: email.body,
    date: opts.date ?? new Date(),
    ...(opts.draft ? { headers: { "X-Unsent": "1" } } : {}),
    attachments: (opts.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
  });
  return composer.compile().build();
}

export type SmtpSettings = NonNullable<Config["smtp"]>;

export class SmtpSettingsError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = "SmtpSettingsError";
  }
}

/** "smtp.example.net:587 (STARTTLS when offered)": where the mail goes, never the password. */
export function smtpLabel(smtp: SmtpSettings): string {
  return `${smtp.host}:${smtp.port} (${smtp.secure ? "TLS" : "STARTTLS when offered"}${smtp.user ? `, as ${smtp.user}` : ""})`;
}

/** Sends the composed message unchanged. The password comes from the environment variable named by smtp.passwordEnv. */
export async function sendEml(
  raw: Buffer,
  envelope: { from: string; to: string },
  smtp: SmtpSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ accepted: string[]; response: string }> {
  let auth: { user: string; pass: string } | undefined;
  if (smtp.user) {
    if (!smtp.passwordEnv)
      throw new SmtpSettingsError(
        "smtp.passwordEnv",
        "smtp.user is set, so smtp.passwordEnv must name the environment variable holding the password",
      );
    const pass = env[smtp.passwordEnv];
    if (pass === undefined || pass === "") {
      throw new SmtpSettingsError("smtp.passwordEnv", `the environment variable ${smtp.passwordEnv} (smtp.passwordEnv) is not set`);
    }
    auth = { user: smtp.user, pass };
  }
  const nodemailer = require("nodemailer") as typeof NodemailerModule;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(auth ? { auth } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
    logger: false,
    debug: false,
  });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { accepted: (info.accepted ?? []).map(String), response: String(info.response ?? "") };
  } finally {
    transport.close();
  }
}
