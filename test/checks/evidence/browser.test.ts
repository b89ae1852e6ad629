/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * report.html in a real browser: Debian's chromium driven by playwright-core,
 * offline, for a session against the simulated facility in which one endpoint
 * fails at auth. Saves a screenshot to test-artifacts/report.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../../checks/evidence/html";
import { PHASES, type Report } from "../../../checks/report";
import { runSession } from "../../../checks/session";
import { hkDate } from "../../../core/time";
import { simulatedFacility, type SimulatedSite } from "../../support/evidence";

/** Debian's package; scripts/ensure-deps.sh installs it. No tool downloads a browser of its own. */
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(__dirname, "..", "..", "..", "test-artifacts");

describe("report.html in chromium", () => {
  let site: SimulatedSite;
  let report: Report;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const requests: string[] = [];
  let bad: { host: string; port: number };

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} (Debian's chromium package) is missing: run scripts/ensure-deps.sh`).toBe(true);
    site = await simulatedFacility({ "10.152.14.142": "reject-auth" });
    const ep = site.sim.endpoints.find((e) => e.host === "10.152.14.142")!;
    bad = { host: ep.bindHost, port: ep.port };
    report = await runSession({
      config: site.config,
      key: site.key,
      knownHosts: site.knownHosts,
      warnings: [],
      reportDir: join(site.dir, "evidence"),
      date: hkDate(),
    });
    const file = join(site.dir, "evidence", "report.html");
    writeFileSync(file, renderHtml(report));

    profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      offline: true,
      viewport: { width: 1300, height: 900 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await site?.close();
  });

  it("loads nothing but the file itself", () => {
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatch(/^file:\/\/.*\/report\.html$/);
  });

  it("shows the session verdict: degraded Part 1 is a failed run", async () => {
    expect(report.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:degraded", "2:pass"]);
    await expect(page.title()).resolves.toMatch(/: FAIL$/);
    expect(await page.locator("body").getAttribute("data-verdict")).toBe("fail");
  });

  it("draws the timeline: both windows, the three parts, each endpoint's phases, the switchovers", async () => {
    const timeline = page.locator("#timeline");
    expect(await timeline.isVisible()).toBe(true);
    expect(
      await page
        .locator("#day-timeline .window-band")
        .evaluateAll((els) => els.map((e) => `${e.getAttribute("data-start")}-${e.getAttribute("data-end")}`)),
    ).toEqual(["12:00-14:00", "15:00-17:00"]);
    expect(
      await page
        .locator("#day-timeline .part-run")
        .evaluateAll((els) => els.map((e) => `${e.getAttribute("data-part")}:${e.getAttribute("data-status")}`)),
    ).toEqual(["precheck:pass", "part1:degraded", "part2:pass"]);
    expect(await page.locator("#day-timeline .switchover-mark").count()).toBe(2);
    const part1 = page.locator('svg.part-timeline[data-part="part1"]');
    expect(await part1.isVisible()).toBe(true);
    expect(await part1.locator(".tl-row").count()).toBe(2);
    const badRow = part1.locator(`.tl-row[data-endpoint="secondary ${bad.host}:${bad.port}"]`);
    expect(await badRow.getAttribute("data-verdict")).toBe("fail");
    expect(
      await badRow
        .locator("rect[data-status]")
        .evaluateAll((els) => els.map((e) => `${e.getAttribute("data-phase")}:${e.getAttribute("data-status")}`)),
    ).toEqual(["tcp:pass", "banner:pass", "hostkey:pass", "auth:fail"]);
    // The failed phase is drawn in red, with a width the eye can see.
    const authBar = badRow.locator('rect[data-phase="auth"]');
    expect(await authBar.evaluate((el) => getComputedStyle(el).fill)).toBe("rgb(217, 48, 37)");
    expect((await authBar.boundingBox())!.width).toBeGreaterThanOrEqual(1);
    expect(await page.locator('svg.part-timeline[data-part="part1"] .switchover-mark').count()).toBe(1);
  });

  it("marks the matrix: the failed endpoint fails auth and skips the rest; every other endpoint passes", async () => {
    const rows = page.locator("#matrix tbody tr");
    expect(await rows.count()).toBe(6);
    const statuses = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        who: `${tr.getAttribute("data-part")} ${tr.getAttribute("data-endpoint")}`,
        verdict: tr.getAttribute("data-verdict"),
        cells: [...tr.querySelectorAll("td[data-phase]")].map((td) => td.getAttribute("data-status")),
      })),
    );
    const badWho = `part1 secondary ${bad.host}:${bad.port}`;
    for (const r of statuses) {
      if (r.who === badWho) {
        expect(r.verdict).toBe("fail");
        expect(r.cells).toEqual(["pass", "pass", "pass", "fail", "skip", "skip", "skip", "skip"]);
      } else {
        expect(r.verdict, r.who).toBe("pass");
        expect(r.cells, r.who).toEqual(PHASES.map((p) => (p === "download" && r.who.startsWith("precheck") ? "skip" : "pass")));
      }
    }
    const authCell = page.locator(`#matrix tr[data-endpoint="secondary ${bad.host}:${bad.port}"] td[data-phase="auth"]`);
    // biome-ignore lint/performance/useDomNodeTextContent: innerText keeps the line break between the status and the cause
    expect(await authCell.innerText()).toMatch(/^✗ FAIL \d+ ms\s+auth-rejected: server rejected publickey login/);
    expect(await authCell.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(251, 228, 226)");
    const passCell = page.locator(`#matrix tr[data-part="part2"] td[data-phase="download"]`).first();
    expect(await passCell.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(227, 244, 232)");
  });

  it("shows the downloads, the cross-site comparison, the keys and the e-mail", async () => {
    expect(await page.locator("#downloads tbody tr").count()).toBe(report.downloads.length);
    expect(
      await page
        .locator("#comparison tbody tr")
        .evaluateAll((trs) => trs.map((t) => `${t.getAttribute("data-file")}:${t.getAttribute("data-comparison")}`)),
    ).toEqual(["TP001:identical", "TP002:identical"]);
    // biome-ignore lint/performance/useDomNodeTextContent: what the reader sees, as rendered
    expect(await page.locator("#keys").innerText()).toContain(site.key.fingerprint!);
    expect(await page.locator("#email pre").textContent()).toBe(report.session!.email.body);
  });

  it("saves a screenshot as a test artifact", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const png = join(ARTIFACTS, "report.png");
    await page.screenshot({ path: png, fullPage: true });
    expect(statSync(png).size).toBeGreaterThan(10_000);
  });
});
