// The audit result for people: a text table for a terminal, markdown for a ticket or a pull
// request. Counts first, the most dangerous findings first, everything else folded. Names come
// from the catalogs, where whoever holds a workspace role chooses them: every value goes through
// components/escape.ts (a table named with ESC sequences or `[Fix here](https://…)` shows as text).
import { escapeMarkdown, escapeText } from "../components/escape.ts";
import type { AuditResult } from "./audit.ts";
import { CLASS_ORDER, FindingClass, isDeviation, type LocatedFinding } from "./findings.ts";

export interface FormatOptions {
  /** Add the query count and time (`--verbose`). */
  readonly verbose?: boolean;
  /** The stack audited: SARIF's category. */
  readonly stack?: string;
}

function summary(result: AuditResult): string {
  const deviations = result.findings.filter(isDeviation).length;
  const parts = CLASS_ORDER.filter((c) => result.counts[c] > 0).map((c) => `${result.counts[c]} ${c}`);
  if (result.counts.excepted > 0) parts.push(`${result.counts.excepted} excepted`);
  const head = `audit of ${result.organization} (${result.declaration}) against database ${result.database} as ${result.user}`;
  if (deviations === 0) return `${head}: clean${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
  return `${head}: ${result.counts.total} finding${result.counts.total === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

function stats(result: AuditResult): string | undefined {
  if (!result.stats) return undefined;
  const aws = result.stats.awsCalls === undefined ? "" : `; ${result.stats.awsCalls} AWS calls`;
  return `read in one snapshot at ${result.snapshotAt}: ${result.stats.queries} queries, ${Math.round(result.stats.durationMs)} ms${aws}`;
}

const where = (f: LocatedFinding, file: string) => `${f.file ?? file}:${f.line}:${f.column}`;

/** The finding's sentence, with its exception when one holds. */
const said = (f: LocatedFinding) => f.excepted === undefined ? f.message : `${f.message} [excepted until ${f.excepted.expires} by ${f.excepted.who}: ${f.excepted.reason}]`;

/** The evidence in two lines: who audited what, where and when; the digest to sign. */
export function evidenceLines(result: AuditResult): string[] {
  const e = result.evidence;
  if (!e) return [];
  const git = e.declaration.gitCommit === undefined ? "" : ` at commit ${e.declaration.gitCommit.slice(0, 12)}${e.declaration.gitDirty ? " (modified)" : ""}`;
  return [
    `evidence: ${e.at} server ${e.server.systemIdentifier ?? "(system identifier not readable)"} PostgreSQL ${e.server.version} as ${e.auditor.currentUser} (session ${e.auditor.sessionUser}); declaration sha256 ${e.declaration.sha256}${git}; ${e.toolkit.name} ${e.toolkit.version}, Pulumi ${e.engine.pulumi}, Node ${e.engine.node}`,
    `result sha256 ${e.resultSha256}`,
  ];
}

export function formatText(result: AuditResult, options: FormatOptions = {}): string {
  const lines = [escapeText(summary(result))];
  if (result.findings.length > 0) {
    const rows = result.findings.map((f) => [f.class, f.workspace ?? "-", f.id, where(f, result.declaration), said(f)].map(escapeText));
    const header = ["CLASS", "WORKSPACE", "ID", "DECLARED AT", "FINDING"];
    const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join("  ");
    lines.push(line(header), ...rows.map(line));
  }
  const s = options.verbose ? stats(result) : undefined;
  if (s) lines.push(s);
  lines.push(...evidenceLines(result).map(escapeText));
  return lines.join("\n") + "\n";
}

const cell = escapeMarkdown;
/** Names and SQL in <code>, not backticks: a code span would show escapeMarkdown's references. */
const code = (s: string) => `<code>${escapeMarkdown(s)}</code>`;

/** Each class of finding as a heading, in text, markdown and HTML alike. */
export const TITLES: Record<FindingClass, string> = {
  boundary: "Boundary: a workspace can be reached from outside it, or reach out of it",
  rule: "Rules failing on the tenancy as found",
  missing: "Missing: declared, not found",
  unexpected: "Unexpected: found, not declared",
  changed: "Changed: found with another value",
  server: "Server: settings and server-wide grants (CIS PostgreSQL)",
  info: "Information",
};

/** Classes shown open; the rest is folded. */
const OPEN: ReadonlySet<FindingClass> = new Set([FindingClass.boundary, FindingClass.rule]);

export function formatMarkdown(result: AuditResult, options: FormatOptions = {}): string {
  const out = [`### ${result.clean ? "✅" : "❌"} ${cell(summary(result))}`, ""];
  for (const c of CLASS_ORDER) {
    const findings = result.findings.filter((f) => f.class === c);
    if (findings.length === 0) continue;
    const table = [
      "| workspace | id | finding | declared at | remediation |",
      "| --- | --- | --- | --- | --- |",
      ...findings.map((f) => `| ${cell(f.workspace ?? "—")} | ${code(f.id)} | ${cell(said(f))} | ${code(where(f, result.declaration))} | ${f.remediation === undefined ? "—" : code(f.remediation)} |`),
    ];
    if (OPEN.has(c)) out.push(`#### ${TITLES[c]} (${findings.length})`, "", ...table, "");
    else out.push(`<details><summary>${TITLES[c]} (${findings.length})</summary>`, "", ...table, "", "</details>", "");
  }
  const s = options.verbose ? stats(result) : undefined;
  if (s) out.push(`<sub>${s}</sub>`, "");
  const e = evidenceLines(result);
  if (e.length > 0) out.push(`<sub>${e.map(cell).join("<br>")}</sub>`, "");
  return out.join("\n");
}

/** The documented JSON (audit/audit-result.schema.json). */
export function formatJson(result: AuditResult): string {
  return JSON.stringify(result, null, 2) + "\n";
}
