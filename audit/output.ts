// One entry for every output format of the audit result.
import type { AuditResult } from "./audit.ts";
import { packageFacts } from "./evidence.ts";
import { formatJson, formatMarkdown, formatText, type FormatOptions } from "./format.ts";
import { formatHtml } from "./html.ts";
import { toSarif } from "./sarif.ts";

export const AUDIT_FORMATS = ["text", "markdown", "json", "sarif", "html"] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];


export function formatAudit(result: AuditResult, format: AuditFormat, options: FormatOptions = {}): string {
  switch (format) {
    case "text": return formatText(result, options);
    case "markdown": return formatMarkdown(result, options);
    case "json": return formatJson(options.verbose ? result : withoutStats(result));
    case "sarif": return JSON.stringify(toSarif(result, { toolVersion: packageFacts().version, ...(options.stack === undefined ? {} : { stack: options.stack }) }), null, 2) + "\n";
    case "html": return formatHtml(result);
  }
}

function withoutStats(result: AuditResult): AuditResult {
  const { stats: _stats, ...rest } = result;
  return rest;
}
