/** confirmation.eml: composed with MailComposer, parsed back with mailparser, sent to a loopback SMTP server only. */
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { simpleParser, type AddressObject } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL_TEMPLATE } from "../../../catalogue";
import { writeOutputs } from "../../../cli/outputs";
import type { OutputContext, OutputRequest } from "../../../checks/evidence/formats";
import { confirmationEmail } from "../../../checks/email";
import { composeConfirmation } from "../../../checks/evidence/eml";
import { renderHtml } from "../../../checks/evidence/html";
import { reportJson, type Report } from "../../../checks/report";
import { tempDir } from "../../support/facility";
import { sessionReport } from "../../support/evidence";

const FROM = "ops@participant.example";
const PASSWORD = "s3cret-smtp-pass-word";
const COMPANIONS = ["report.json", "report.html", "junit.xml", "confirmation-email.txt"];

/** A session's outputs, the result printed nowhere: the e-mail is written after its companions. */
function sessionOutputs(report: Report, request: OutputRequest, context: OutputContext = {}): Promise<string[]> {
  return writeOutputs(report, "session", request, { ...context, stdout: () => undefined });
}

function notCompletedReport(): Report {
  const r = sessionReport();
  const reasons = [
    "Part 2 (Primary Data Centre) did not run: Typhoon Signal No. 8 (or above) issued at 12:30",
    "the SSH key changed between parts (SHA256:a → SHA256:b)",
  ];
  return {
    ...r,
    session: {
      ...r.session!,
      completed: false,
      reasons,
      email: confirmationEmail({ date: "2024-11-30", completed: false, reasons, participant: "ABC Securities (CP0001)" }),
    },
  };
}

function address(a: AddressObject | AddressObject[] | undefined): { address?: string; name: string }[] {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => ({ address: v.address, name: v.name })));
}

describe("confirmation.eml", () => {
  it("holds the HKEX subject, the recipient, the sender, the template body exactly, and the evidence with --attach", async () => {
    const report = sessionReport();
    const dir = tempDir("eml");
    const notices: string[] = [];
    const written = await sessionOutputs(
      report,
      { reportDir: dir, attach: true },
      { email: { from: FROM, participant: "ABC Securities (CP0001)" }, notice: (l) => notices.push(l) },
    );
    expect(written).toEqual([...COMPANIONS, "confirmation.eml"].map((f) => join(dir, f)));
    expect(notices).toEqual([]);
    const raw = readFileSync(join(dir, "confirmation.eml"));
    expect(raw.toString("latin1")).toMatch(/^(From|To|Subject|Date|Message-ID|MIME-Version|Content-Type): /m);
    const mail = await simpleParser(raw);
    expect(address(mail.to)).toEqual([{ address: "clearingpsd@hkex.com.hk", name: "" }]);
    expect(EMAIL_TEMPLATE.to).toBe("clearingpsd@hkex.com.hk");
    expect(mail.subject).toBe(EMAIL_TEMPLATE.subject);
    expect(address(mail.from)).toEqual([{ address: FROM, name: "ABC Securities (CP0001)" }]);
    expect(mail.text).toBe(report.session!.email.body);
    expect(mail.text).toBe(
      "We have participated in and successfully completed the Secondary Data Centre Connectivity Test Session for the upgraded Report Retrieval Solution for Derivatives Markets on 30 November 2024.\n\nABC Securities (CP0001)\n",
    );
    expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ["report.json", "application/json"],
      ["report.html", "text/html"],
    ]);
    expect(mail.attachments[0]!.content.toString("utf8")).toBe(reportJson(report));
    expect(mail.attachments[1]!.content.toString("utf8")).toBe(renderHtml(report));
  });

  it("carries the did-NOT-complete text with its reasons, unicode and all, and no attachment without --attach", async () => {
    const report = notCompletedReport();
    const dir = tempDir("eml-nc");
    await sessionOutputs(report, { reportDir: dir }, { email: { from: FROM }, notice: () => undefined });
    const mail = await simpleParser(readFileSync(join(dir, "confirmation.eml")));
    expect(mail.text).toBe(report.session!.email.body);
    expect(mail.text).toContain("\n- the SSH key changed between parts (SHA256:a → SHA256:b)\n");
    expect(address(mail.from)).toEqual([{ address: FROM, name: "" }]);
    expect(mail.attachments).toEqual([]);
  });

  it("is not written without email.from, with a warning naming it; nor after Part 1 alone", async () => {
    const dir = tempDir("eml-nofrom");
    const notices: string[] = [];
    expect(await sessionOutputs(sessionReport(), { reportDir: dir }, { notice: (l) => notices.push(l) })).toEqual(
      COMPANIONS.map((f) => join(dir, f)),
    );
    expect(existsSync(join(dir, "confirmation.eml"))).toBe(false);
    expect(notices).toEqual([
      "warning: email.from is not set in the config, so confirmation.eml was not written; confirmation-email.txt has the text to send (set email.from to get a ready-to-send .eml)",
    ]);
    const afterPart1 = tempDir("eml-part1");
    expect(
      await sessionOutputs(
        sessionReport(),
        { reportDir: afterPart1 },
        { part: "1", email: { from: FROM }, notice: (l) => notices.push(l) },
      ),
    ).toEqual(["report.json", "report.html", "junit.xml"].map((f) => join(afterPart1, f)));
    expect(existsSync(join(afterPart1, "confirmation.eml"))).toBe(false);
    expect(notices).toHaveLength(1);
  });
});

describe("sending confirmation.eml over SMTP (loopback server)", () => {
  const received: { from: string; to: string[]; data: Buffer; user?: string }[] = [];
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    server = new SMTPServer({
      secure: false,
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      authMethods: ["PLAIN", "LOGIN"],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === "cp0001" && auth.password === PASSWORD) cb(null, { user: auth.username });
        else cb(new Error("535 Authentication failed"));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks),
            user: session.user as string | undefined,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the very bytes of the file to clearingpsd@hkex.com.hk, logging in with the password from the environment", async () => {
    const dir = tempDir("eml-smtp");
    const notices: string[] = [];
    await sessionOutputs(
      sessionReport(),
      { reportDir: dir, attach: true },
      {
        email: { from: FROM },
        smtp: { host: "127.0.0.1", port, secure: false, user: "cp0001", passwordEnv: "HKEX_SMTP_PASSWORD" },
        env: { HKEX_SMTP_PASSWORD: PASSWORD },
        notice: (l) => notices.push(l),
      },
    );
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ from: FROM, to: ["clearingpsd@hkex.com.hk"], user: "cp0001" });
    const file = readFileSync(join(dir, "confirmation.eml"));
    expect(received[0]!.data.toString("utf8").replace(/\r\n/g, "\n").trimEnd()).toBe(
      file.toString("utf8").replace(/\r\n/g, "\n").trimEnd(),
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(
      new RegExp(
        `^sent confirmation\\.eml to clearingpsd@hkex\\.com\\.hk via 127\\.0\\.0\\.1:${port} \\(STARTTLS when offered, as cp0001\\): 250 `,
      ),
    );
    for (const text of [...notices, file.toString("utf8")]) expect(text).not.toContain(PASSWORD);
  });

  it("a rehearsal's e-mail is a draft not to send: X-Unsent, marked subject and first line, every companion says so, nothing sent", async () => {
    const base = sessionReport();
    const reason = "1 December 2024 is not a configured session day (the session days are 2024-11-16 and 2024-11-30)";
    const report: Report = {
      ...base,
      session: {
        ...base.session!,
        date: "2024-12-01",
        rehearsal: true,
        rehearsalReason: reason,
        email: confirmationEmail({
          date: "2024-12-01",
          completed: true,
          reasons: [],
          participant: "ABC Securities (CP0001)",
          rehearsal: reason,
        }),
      },
    };
    const dir = tempDir("eml-rehearsal");
    const notices: string[] = [];
    const before = received.length;
    await sessionOutputs(
      report,
      { reportDir: dir },
      {
        email: { from: FROM },
        smtp: { host: "127.0.0.1", port, secure: false, user: "cp0001", passwordEnv: "HKEX_SMTP_PASSWORD" },
        env: { HKEX_SMTP_PASSWORD: PASSWORD },
        notice: (l) => notices.push(l),
      },
    );
    expect(received).toHaveLength(before);
    expect(notices).toEqual(["confirmation.eml was not sent: this run was a rehearsal, and its e-mail is a draft marked not to send"]);
    const raw = readFileSync(join(dir, "confirmation.eml"));
    expect(raw.toString("latin1")).toMatch(/^X-Unsent: 1\r?$/m);
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe(`[REHEARSAL - DO NOT SEND] ${EMAIL_TEMPLATE.subject}`);
    expect(mail.text?.split("\n")[0]).toBe(
      `REHEARSAL - DO NOT SEND. This is not a confirmation: the run was a rehearsal (${reason}). It shows what the e-mail will say after the real session.`,
    );
    const text = readFileSync(join(dir, "confirmation-email.txt"), "utf8");
    expect(text.split("\n").slice(1, 4)).toEqual([
      `Subject: [REHEARSAL - DO NOT SEND] ${EMAIL_TEMPLATE.subject}`,
      "",
      mail.text!.split("\n")[0],
    ]);
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as Report;
    expect(json.session).toMatchObject({ rehearsal: true, rehearsalReason: reason });
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain("<h1>REHEARSAL of the connectivity session of 1 December 2024");
    expect(html).toContain('data-rehearsal="true"');
    expect(html).toContain("do not send it to HKEX");
    // The real session's e-mail carries none of it.
    const real = await composeConfirmation(sessionReport().session!.email, { from: FROM });
    expect(real.toString("latin1")).not.toMatch(/X-Unsent|REHEARSAL/);
  });

  it("keeps the file and warns, without the password, when the server refuses the login or the password is missing", async () => {
    const dir = tempDir("eml-smtp-bad");
    const notices: string[] = [];
    const before = received.length;
    const smtp = { host: "127.0.0.1", port, secure: false, user: "cp0001", passwordEnv: "HKEX_SMTP_PASSWORD" };
    await sessionOutputs(
      sessionReport(),
      { reportDir: dir },
      { email: { from: FROM }, smtp, env: { HKEX_SMTP_PASSWORD: "wrong-password-value" }, notice: (l) => notices.push(l) },
    );
    expect(existsSync(join(dir, "confirmation.eml"))).toBe(true);
    expect(notices[0]).toMatch(
      /^warning: sending confirmation\.eml via 127\.0\.0\.1:\d+ .* failed \(.*535.*\); send .*confirmation\.eml to clearingpsd@hkex\.com\.hk by hand today$/,
    );
    expect(notices[0]).not.toContain("wrong-password-value");
    await sessionOutputs(sessionReport(), { reportDir: dir }, { email: { from: FROM }, smtp, env: {}, notice: (l) => notices.push(l) });
    expect(notices[1]).toContain("failed (smtp.passwordEnv: the environment variable HKEX_SMTP_PASSWORD (smtp.passwordEnv) is not set)");
    expect(received.length).toBe(before);
  });
});
