/**
 * report.html: the evidence for auditors, managers and HKEX, readable at a
 * glance. One self-contained file: inline CSS and SVG, no script, and a
 * Content-Security-Policy that forbids every fetch, so it opens the same
 * offline, from an e-mail attachment or from an archive years later.
 *
 * The page is its sections, top to bottom (docs/evidence.md); each is a
 * renderer of its own, and one that has nothing to show returns "".
 */
import type { Report } from "../../report";
import { downloadsSection, comparisonSection } from "./downloads";
import { emailSection } from "./email";
import { header } from "./header";
import { keysSection } from "./keys";
import { esc } from "./markup";
import { matrixSection } from "./matrix";
import { STYLE } from "./style";
import { switchoverSection } from "./switchover";
import { timelineSection } from "./timeline";
import { warningsSection } from "./warnings";

/** The sections in page order: header, day and part timelines, endpoint matrix, downloads and their cross-site hashes, keys, switchover, e-mail, warnings. */
export const HTML_SECTIONS: readonly { readonly id: string; readonly render: (report: Report) => string }[] = [
  { id: "header", render: header },
  { id: "timeline", render: timelineSection },
  { id: "matrix", render: matrixSection },
  { id: "downloads", render: downloadsSection },
  { id: "comparison", render: comparisonSection },
  { id: "keys", render: keysSection },
  { id: "switchover", render: switchoverSection },
  { id: "email", render: emailSection },
  { id: "warnings", render: warningsSection },
];

function head(report: Report): string[] {
  const title = report.session
    ? `HKEX SFTP connectivity session ${report.session.date}: ${report.verdict.toUpperCase()}`
    : `HKEX SFTP readiness check: ${report.verdict.toUpperCase()}`;
  return [
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${esc(`${report.tool.name} ${report.tool.version}`)}">`,
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
  ];
}

/** The whole report.html. */
export function renderHtml(report: Report): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    ...head(report),
    `<body data-verdict="${report.verdict}" data-kind="${report.kind}">`,
    ...HTML_SECTIONS.map((s) => s.render(report)),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
