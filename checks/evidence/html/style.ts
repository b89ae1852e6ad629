/** The inline style sheet of report.html: no web font, no image, nothing fetched. */
export const STYLE = `
:root { --pass:#1b7f3b; --pass-bg:#e3f4e8; --fail:#b3261e; --fail-bg:#fbe4e2; --skip:#6b6b6b; --skip-bg:#eeeeee;
  --warn:#8a5a00; --warn-bg:#fff4d6; --ink:#1d1d1f; --muted:#5f6368; --rule:#d9d9de; --win:#dfe9fb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; padding: 24px 32px 48px; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 20px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--rule); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f6f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
.badge.pass, .badge.identical, .badge.match, .badge.yes, .badge.continue { color: var(--pass); background: var(--pass-bg); }
.badge.fail, .badge.different, .badge.mismatch, .badge.no, .badge.cancelled, .badge.terminate, .badge.revoked { color: var(--fail); background: var(--fail-bg); }
.badge.degraded, .badge.unknown, .badge.single-site, .badge.not-run { color: var(--warn); background: var(--warn-bg); }
.badge.skip { color: var(--skip); background: var(--skip-bg); }
.verdict { font-size: 16px; padding: 3px 12px; }
td.cell { white-space: nowrap; font-size: 12.5px; }
td.cell.pass { background: var(--pass-bg); color: var(--pass); }
td.cell.fail { background: var(--fail-bg); color: var(--fail); font-weight: 600; }
td.cell.skip { background: var(--skip-bg); color: var(--skip); }
td.cell .why { display: block; font-weight: 400; white-space: normal; max-width: 22em; font-size: 11.5px; overflow-wrap: anywhere; }
table.matrix td.mono { white-space: nowrap; word-break: normal; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.flag { color: var(--fail); font-weight: 600; }
p.rehearsal { color: var(--warn); background: var(--warn-bg); border: 1px solid var(--warn); padding: 8px 12px; }
pre.email { background: #fafafa; border: 1px solid var(--rule); padding: 12px; white-space: pre-wrap; font-size: 13px; }
ul.warnings li { color: var(--warn); }
svg { display: block; width: 100%; height: auto; font-family: system-ui, sans-serif; }
svg .axis { stroke: #888; stroke-width: 1; } svg .grid { stroke: #e6e6ea; stroke-width: 1; }
svg text { font-size: 11px; fill: #333; } svg text.small { font-size: 10px; fill: #666; }
svg .window { fill: var(--win); } svg .switch { stroke: #6a3fb5; stroke-width: 2; stroke-dasharray: 4 3; }
svg text.switch-label { fill: #6a3fb5; }
svg rect.pass { fill: #34a853; } svg rect.fail { fill: #d93025; } svg rect.skip { fill: #bdbdbd; }
svg rect.run.pass { fill: #34a853; } svg rect.run.fail { fill: #d93025; } svg rect.run.degraded { fill: #f29900; } svg rect.run.not-run { fill: #bdbdbd; }
.legend span { margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
@media print { body { padding: 0; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } }
`;
