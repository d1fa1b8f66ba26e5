// The audit result as SARIF 2.1.0, for code-scanning dashboards: one result per finding,
// located at the declaration line it concerns, with a stable fingerprint so a dashboard tracks
// a finding across runs.
import { createHash } from "node:crypto";
import { rules as tenancyRules } from "../policies/rules/index.ts";
import type { AuditResult } from "./audit.ts";
import { DESCRIPTIONS, FindingClass, type FindingId } from "./findings.ts";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
export const TOOL_NAME = "tenancy-audit";

const LEVEL: Record<FindingClass, "error" | "warning" | "note"> = {
  boundary: "error", rule: "error", missing: "warning", unexpected: "warning", changed: "warning", server: "warning", info: "note",
};

/** SARIF's `uri`: forward slashes, as a relative reference when the path is relative. */
function uriOf(file: string): string {
  return file.split("\\").join("/").split("/").map(encodeURIComponent).join("/");
}

export function toSarif(result: AuditResult, toolVersion: string): unknown {
  const ids = [...new Set(result.findings.map((f) => f.id))].sort();
  const ruleMeta = ids.map((id) => {
    const own = DESCRIPTIONS[id as FindingId];
    const rule = tenancyRules.find((r) => r.id === id);
    const cls = own?.class ?? FindingClass.rule;
    return {
      id,
      name: id,
      shortDescription: { text: own?.text ?? rule?.description ?? id },
      defaultConfiguration: { level: LEVEL[cls] },
      properties: { class: cls },
    };
  });
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [{
      tool: { driver: { name: TOOL_NAME, version: toolVersion, rules: ruleMeta } },
      automationDetails: { id: `tenancy-audit/${result.organization}/` },
      results: result.findings.map((f) => ({
        ruleId: f.id,
        ruleIndex: ids.indexOf(f.id),
        level: LEVEL[f.class],
        message: { text: f.message },
        locations: [{
          physicalLocation: { artifactLocation: { uri: uriOf(result.declaration) }, region: { startLine: f.line, startColumn: f.column } },
          logicalLocations: [{ name: f.object, kind: "object", ...(f.workspace === undefined ? {} : { fullyQualifiedName: `${result.organization}/${f.workspace}/${f.object}` }) }],
        }],
        partialFingerprints: { "tenancyFinding/v1": createHash("sha256").update([f.class, f.id, f.object, f.message].join("\u0001")).digest("hex").slice(0, 32) },
        properties: {
          class: f.class, object: f.object,
          ...(f.workspace === undefined ? {} : { workspace: f.workspace }),
          ...(f.declared === undefined ? {} : { declared: f.declared }),
          ...(f.found === undefined ? {} : { found: f.found }),
        },
      })),
    }],
  };
}
