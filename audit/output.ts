// One entry for every output format of the audit result.
import { readFileSync } from "node:fs";
import type { AuditResult } from "./audit.ts";
import { formatJson, formatMarkdown, formatText, type FormatOptions } from "./format.ts";
import { toSarif } from "./sarif.ts";

export type AuditFormat = "text" | "markdown" | "json" | "sarif";

const toolVersion = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export function formatAudit(result: AuditResult, format: AuditFormat, options: FormatOptions = {}): string {
  switch (format) {
    case "text": return formatText(result, options);
    case "markdown": return formatMarkdown(result, options);
    case "json": return formatJson(options.verbose ? result : withoutStats(result));
    case "sarif": return JSON.stringify(toSarif(result, toolVersion), null, 2) + "\n";
  }
}

function withoutStats(result: AuditResult): AuditResult {
  const { stats: _stats, ...rest } = result;
  return rest;
}
