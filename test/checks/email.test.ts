import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EMAIL_TEMPLATE } from "../../catalogue";
import { confirmationEmail, confirmationText, fillDate } from "../../checks/email";

const circular = readFileSync(join(__dirname, "..", "fixtures", "circular", "PT-OEC-SEOCH-293-2024.txt"), "utf8").replace(/\s+/g, " ");

describe("confirmation e-mail", () => {
  it("uses the circular's subject and texts word for word", () => {
    expect(circular).toContain(`“${EMAIL_TEMPLATE.subject}”`);
    expect(circular).toContain(`“${EMAIL_TEMPLATE.completed}”`);
    expect(circular).toContain(`*“${EMAIL_TEMPLATE.notCompleted}”`);
    expect(circular).toContain(EMAIL_TEMPLATE.to);
  });

  it("fills the date into the template", () => {
    expect(fillDate(EMAIL_TEMPLATE.completed, "2024-11-30")).toBe(
      "We have participated in and successfully completed the Secondary Data Centre Connectivity Test Session for the upgraded Report Retrieval Solution for Derivatives Markets on 30 November 2024.",
    );
    expect(fillDate(EMAIL_TEMPLATE.completed, "2026-03-07")).toContain(" on 7 March 2026.");
  });

  it("writes the success text, or the failure text followed by the reasons", () => {
    const ok = confirmationEmail({ date: "2024-11-16", completed: true, reasons: [] });
    expect(ok.body).toBe(`${fillDate(EMAIL_TEMPLATE.completed, "2024-11-16")}\n`);
    const bad = confirmationEmail({
      date: "2024-11-16",
      completed: false,
      reasons: ["Part 1 secondary 10.152.14.141:18801 auth: server rejected publickey login"],
      participant: "ABC Securities (CP0001)",
    });
    expect(bad.body).toBe(
      [
        fillDate(EMAIL_TEMPLATE.notCompleted, "2024-11-16"),
        "",
        "- Part 1 secondary 10.152.14.141:18801 auth: server rejected publickey login",
        "",
        "ABC Securities (CP0001)",
        "",
      ].join("\n"),
    );
    expect(confirmationText(bad)).toMatch(/^To: clearingpsd@hkex\.com\.hk\nSubject: Confirmation - Secondary Data Centre/);
  });
});
