/**
 * The shipped Prometheus config and alert rules, checked by Prometheus's own
 * promtool: the config and rules parse, and the rules' unit tests
 * (deploy/prometheus/hkex-rules.test.yml) pass, with a case where each alert
 * fires and one where it does not.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/facility";

const DEPLOY = join(__dirname, "..", "..", "deploy", "prometheus");
const README = join(__dirname, "..", "..", "README.md");

function promtool(args: string[], cwd = DEPLOY): { code: number | null; out: string } {
  const r = spawnSync("/usr/bin/promtool", args, { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (parse(readFileSync(join(DEPLOY, "hkex-rules.yml"), "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

/** GitHub's anchor for a heading: lower case, spaces to hyphens, punctuation dropped. */
function anchors(markdown: string): Set<string> {
  return new Set(
    markdown
      .split("\n")
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) =>
        l
          .replace(/^#+ /, "")
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replace(/ /g, "-"),
      ),
  );
}

describe("Prometheus config and alert rules", () => {
  const dir = tempDir("rules");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes promtool check config and check rules", () => {
    const config = promtool(["check", "config", "prometheus.yml"]);
    expect(config.out).toContain("SUCCESS: prometheus.yml is valid prometheus config file syntax");
    expect(config.code).toBe(0);
    const checked = promtool(["check", "rules", "hkex-rules.yml"]);
    expect(checked.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(checked.code).toBe(0);
  });

  it("passes its promtool unit tests", () => {
    const r = promtool(["test", "rules", "hkex-rules.test.yml"]);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("has a unit test where each alert fires and one where it does not", () => {
    const tests = (
      parse(readFileSync(join(DEPLOY, "hkex-rules.test.yml"), "utf8")) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        "HkexSftpEndpointDown",
        "HkexSftpSiteDown",
        "HkexSftpHostKeyChanged",
        "HkexSftpProbeSlow",
        "HkexSftpSessionSoonSiteFailing",
      ]),
    );
    for (const rule of rules) {
      const mine = tests.filter((t) => t.alertname === rule.alert);
      expect(
        mine.some((t) => t.exp_alerts.length > 0),
        `${rule.alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((t) => t.exp_alerts.length === 0),
        `${rule.alert} stays quiet in a test`,
      ).toBe(true);
    }
  });

  it("fails the unit tests when an expectation is wrong (the runner is not vacuous)", () => {
    copyFileSync(join(DEPLOY, "hkex-rules.yml"), join(dir, "hkex-rules.yml"));
    const tests = readFileSync(join(DEPLOY, "hkex-rules.test.yml"), "utf8").replace(
      "phase tcp, cause timeout",
      "phase auth, cause timeout",
    );
    writeFileSync(join(dir, "hkex-rules.test.yml"), tests);
    const r = promtool(["test", "rules", "hkex-rules.test.yml"], dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("phase tcp, cause timeout");
  });

  it("gives every alert a severity and a runbook link to the README's failure table", () => {
    const readmeAnchors = anchors(readFileSync(README, "utf8"));
    for (const rule of rules) {
      expect(["warning", "critical"], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      const link = rule.annotations?.runbook_url ?? "";
      expect(link, rule.alert).toMatch(/^README\.md#/);
      expect(readmeAnchors.has(link.split("#")[1]!), link).toBe(true);
    }
    expect(readmeAnchors.has("what-each-failure-means")).toBe(true);
  });
});
