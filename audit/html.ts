// The audit result as one self-contained HTML page for an auditor: the verdict and counts, the
// access matrix (workspaces as rows, who can reach them as columns; an access the declaration
// does not give is red, one it gives is green), the findings by class with their remediation,
// and the evidence with the digest to sign. No script, no external asset (a strict CSP says
// so); every name from the database or the declaration goes through escapeHtml.
import { escapeHtml } from "../components/escape.ts";
import type { AccessCell, AccessMatrix } from "./access-matrix.ts";
import type { AuditResult } from "./audit.ts";
import { TITLES } from "./format.ts";
import { CLASS_ORDER, isDeviation, type LocatedFinding } from "./findings.ts";

const h = escapeHtml;

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.verdict.fail{background:#ffebe9;border:1px solid #cf222e;color:#82071e}.verdict.pass{background:#dafbe1;border:1px solid #1a7f37;color:#116329}
table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f6f8fa;font-weight:600}
.matrix th.col{vertical-align:bottom}.matrix th.col div{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;max-height:200px;overflow:hidden;text-overflow:ellipsis}
.matrix td.cell{min-width:56px;font-size:12px}
.matrix td.declared{background:#dafbe1}.matrix td.undeclared{background:#ff8182;color:#000;font-weight:600}
.matrix td.empty{background:#fff}.matrix tr.stray th{color:#cf222e}
.legend span{display:inline-block;padding:2px 8px;margin-right:8px;border:1px solid #d0d7de}
.path{color:#57606a;font-weight:400;display:block}
.cls-boundary td.class{color:#cf222e;font-weight:700}.cls-rule td.class{color:#bc4c00;font-weight:700}
tr.excepted{opacity:.6}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap}
.evidence td:first-child{font-weight:600;white-space:nowrap}
`;


function cellHtml(cells: readonly AccessCell[]): string {
  if (cells.length === 0) return `<td class="cell empty"></td>`;
  const declared = cells.every((c) => c.declared);
  const title = cells.map((c) => `${c.path.join(" → ")}: ${c.privilege.join(", ")}${c.findings.length > 0 ? ` (${c.findings.join(", ")})` : ""}`).join("; ");
  // An owner holds everything on what it owns: OWNER says it; the title lists the rest.
  const shown = (c: AccessCell) => (c.privilege.includes("OWNER") ? ["OWNER"] : c.privilege);
  const body = cells.map((c) => `${shown(c).map(h).join(", ")}${c.path.length > 1 || c.column === "(own roles)" ? `<span class="path">${c.path.map(h).join(" → ")}</span>` : ""}`).join("<br>");
  return `<td class="cell ${declared ? "declared" : "undeclared"}" title="${h(title)}">${body}</td>`;
}

export function matrixHtml(matrix: AccessMatrix): string {
  const head = `<tr><th>workspace</th>${matrix.columns.map((c) => `<th class="col" scope="col" title="${h(c.id)}"><div>${h(c.id)}</div></th>`).join("")}</tr>`;
  const rows = matrix.rows.map((r) => {
    const cells = matrix.columns.map((c) => cellHtml(matrix.cells.filter((x) => x.row === r.id && x.column === c.id)));
    return `<tr class="${r.declared ? "" : "stray"}"><th scope="row">${h(r.id)}${r.declared ? "" : " (not declared)"}<span class="path">${h(r.schema)}</span></th>${cells.join("")}</tr>`;
  });
  return `<table class="matrix" id="access-matrix">${head}${rows.join("")}</table>`;
}

function findingsHtml(result: AuditResult): string {
  const out: string[] = [];
  for (const c of CLASS_ORDER) {
    const findings = result.findings.filter((f) => f.class === c);
    if (findings.length === 0) continue;
    const row = (f: LocatedFinding) => `<tr class="cls-${c}${f.excepted ? " excepted" : ""}"><td class="class">${c}</td><td>${h(f.workspace ?? "—")}</td><td><code>${h(f.id)}</code></td>` +
      `<td>${h(f.message)}${f.excepted ? `<br><em>excepted until ${h(f.excepted.expires)} by ${h(f.excepted.who)}: ${h(f.excepted.reason)}</em>` : ""}</td>` +
      `<td><code>${h(`${f.file ?? result.declaration}:${f.line}`)}</code></td><td>${f.remediation === undefined ? "—" : `<code>${h(f.remediation)}</code>`}</td></tr>`;
    out.push(`<h2 id="class-${c}">${h(TITLES[c])} (${findings.length})</h2>`,
      `<table class="findings"><tr><th>class</th><th>workspace</th><th>id</th><th>finding</th><th>declared at</th><th>remediation</th></tr>${findings.map(row).join("")}</table>`);
  }
  return out.join("\n");
}

function evidenceHtml(result: AuditResult): string {
  const e = result.evidence;
  const rows: [string, string][] = [
    ["organization", result.organization], ["database", result.database], ["declaration", result.declaration], ["snapshot", result.snapshotAt],
  ];
  if (e) {
    rows.push(
      ["server", `${e.server.systemIdentifier ?? "(system identifier not readable)"}, PostgreSQL ${e.server.version}`],
      ["audited as", `${e.auditor.currentUser} (session ${e.auditor.sessionUser})`],
      ["declaration sha256", e.declaration.sha256],
      ...(e.declaration.gitCommit === undefined ? [] : [["git commit", `${e.declaration.gitCommit}${e.declaration.gitDirty ? " (file modified)" : ""}`] as [string, string]]),
      ["toolkit", `${e.toolkit.name} ${e.toolkit.version}, Pulumi ${e.engine.pulumi}, Node ${e.engine.node}`],
      ["result sha256", e.resultSha256],
    );
  } else {
    rows.push(["audited as", result.user]);
  }
  return `<table class="evidence">${rows.map(([k, v]) => `<tr><td>${h(k)}</td><td><code>${h(v)}</code></td></tr>`).join("")}</table>`;
}

export function formatHtml(result: AuditResult): string {
  const failing = result.findings.filter(isDeviation).length;
  const parts = CLASS_ORDER.filter((c) => result.counts[c] > 0).map((c) => `${result.counts[c]} ${c}`);
  if (result.counts.excepted > 0) parts.push(`${result.counts.excepted} excepted`);
  const verdict = failing === 0 ? `Clean${parts.length > 0 ? ` (${parts.join(", ")})` : ""}` : `${result.counts.total} finding${result.counts.total === 1 ? "" : "s"}: ${parts.join(", ")}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tenancy audit: ${h(result.organization)}</title>
<style>${CSS}</style></head>
<body>
<h1>Tenancy audit of ${h(result.organization)}</h1>
<div>database <code>${h(result.database)}</code>, declaration <code>${h(result.declaration)}</code>, snapshot ${h(result.snapshotAt)}</div>
<div class="verdict ${failing === 0 ? "pass" : "fail"}" id="verdict">${h(verdict)}</div>
<h2>Who can reach each workspace</h2>
<p class="legend"><span style="background:#dafbe1">declared</span><span style="background:#ff8182">not declared: a finding</span>Each cell: the privileges, and the path (holder → role it goes through).</p>
${result.accessMatrix ? matrixHtml(result.accessMatrix) : "<p>No access matrix in this result.</p>"}
${findingsHtml(result)}
<h2>Evidence</h2>
${evidenceHtml(result)}
</body></html>
`;
}
