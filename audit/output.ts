// One entry for every output format of the audit result.
import { readFileSync } from "node:fs";
import type { AuditResult } from "./audit.ts";
import { formatJson, formatMarkdown, formatText, type FormatOptions } from "./format.ts";
import { formatHtml } from "./html.ts";
import { toSarif } from "./sarif.ts";

export const AUDIT_FORMATS = ["text", "markdown", "json", "sarif", "html"] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/**
 * This package's version, for SARIF's tool. Its package.json is one folder up from the sources
 * (audit/) and two from the compiled bin (dist/audit/, where one folder up has none).
 */
function toolVersion(): string {
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      const p = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (p.name === "tenancy-as-code" && p.version) return p.version;
    } catch { /* not here */ }
  }
  return "unknown";
}

export function formatAudit(result: AuditResult, format: AuditFormat, options: FormatOptions = {}): string {
  switch (format) {
    case "text": return formatText(result, options);
    case "markdown": return formatMarkdown(result, options);
    case "json": return formatJson(options.verbose ? result : withoutStats(result));
    case "sarif": return JSON.stringify(toSarif(result, { toolVersion: toolVersion(), ...(options.stack === undefined ? {} : { stack: options.stack }) }), null, 2) + "\n";
    case "html": return formatHtml(result);
  }
}

function withoutStats(result: AuditResult): AuditResult {
  const { stats: _stats, ...rest } = result;
  return rest;
}
