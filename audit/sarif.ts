// The audit result as SARIF 2.1.0 for GitHub code scanning (checked with the SARIF Multitool's
// SARIF and GitHub rules in test/audit/sarif-multitool.test.ts):
// - every rule has a short and a full description, help as text and markdown, a
//   `security-severity` and tags;
// - a result's `partialFingerprints` hash the rule and the object's identity (workspace, object,
//   grantee and privilege for a grant), never the message, which holds day counts and found
//   values: an alert stays one alert across runs until it is fixed;
// - artifact URIs are relative to the repository root (`%SRCROOT%`), never absolute;
// - one `automationDetails.id` per stack, so each stack's upload replaces only its own alerts.
import { createHash } from "node:crypto";
import { basename, isAbsolute } from "node:path";
import { rules as tenancyRules } from "../policies/rules/index.ts";
import type { AuditResult } from "./audit.ts";
import { CLASS_LEVEL, DESCRIPTIONS, levelOf, FindingClass, type Finding, type FindingId } from "./findings.ts";
import { grantOf } from "./remediation.ts";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
export const TOOL_NAME = "tenancy-audit";
export const TOOL_INFORMATION_URI = "https://www.npmjs.com/package/tenancy-as-code";
/** The one uriBaseId: the repository root the workflow checks out. */
export const SRCROOT = "%SRCROOT%";

/** GitHub maps these to critical (> 9.0), high (7.0-8.9), medium (4.0-6.9), low (< 4.0). */
const SECURITY_SEVERITY: Readonly<Record<FindingClass, string>> = {
  boundary: "9.1", rule: "7.5", unexpected: "6.0", missing: "5.0", changed: "5.0", server: "4.0", info: "2.0",
};

const CLASS_MEANING: Readonly<Record<FindingClass, string>> = {
  boundary: "A workspace can be reached from outside it, or reach out of it: its data boundary is open.",
  rule: "A rule of the declaration fails on the tenancy as found in the database.",
  missing: "Declared, not found in the database.",
  unexpected: "Found in the database, not declared.",
  changed: "Found with another value than declared.",
  server: "A server-wide setting or grant below what CIS PostgreSQL recommends; its severity says whether it fails the audit.",
  info: "Worth knowing; not a deviation.",
};

export interface SarifOptions {
  readonly toolVersion: string;
  /** The stack audited, for the category; without one the database's name stands in. */
  readonly stack?: string;
}

/** `tenancy-audit/<org>/<stack>/`: code scanning keeps one set of alerts per category. */
export function sarifCategory(result: AuditResult, stack?: string): string {
  return `${TOOL_NAME}/${result.organization}/${stack ?? result.database}/`;
}

/**
 * A path as a URI reference relative to the repository root: the evidence's repository path
 * when the CLI found one, else the path as given when relative, else (an absolute path, or one
 * climbing out with `..`) its file name, since such a URI breaks code scanning.
 */
export function relativeUri(file: string): string {
  const slashed = file.split("\\").join("/");
  const outside = isAbsolute(file) || /^[A-Za-z]:\//.test(slashed) || slashed.split("/").includes("..");
  const relative = outside ? basename(slashed) : slashed.replace(/^(\.\/)+/, "");
  return relative.split("/").map(encodeURIComponent).join("/");
}

/** Identity of what a finding is about: stable while the finding stands, whatever its message says. */
export function findingIdentity(f: Finding): string {
  const grant = grantOf(f);
  return [f.id, f.workspace ?? "", f.object, grant?.grantee ?? "", grant?.privilege ?? ""].join("\u0001");
}

export function fingerprint(f: Finding): string {
  return createHash("sha256").update(findingIdentity(f)).digest("hex").slice(0, 32);
}

/** `grant-crosses-boundary` -> `GrantCrossesBoundary`: SARIF wants a name that is not the id. */
const pascal = (id: string) => id.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");

function ruleDescriptor(id: string) {
  const own = DESCRIPTIONS[id as FindingId];
  const rule = tenancyRules.find((r) => r.id === id);
  const cls = own?.class ?? FindingClass.rule;
  const text = own?.text ?? rule?.description ?? `Checks the rule ${id}.`;
  const fix = cls === FindingClass.rule
    ? "Change the declaration or the tenancy so the rule holds, then `tenancy validate` and `tenancy apply`."
    : "Each result names the SQL or the `tenancy` command that puts it right (its remediation). To accept a finding for a while, add it to the exceptions file with a reason, who, and an expiry date.";
  return {
    id,
    name: pascal(id),
    shortDescription: { text: `${text.replace(/^Checks that /, "").replace(/^Reports /, "").replace(/\.$/, "")}.`.replace(/^./, (c) => c.toUpperCase()) },
    fullDescription: { text },
    help: {
      text: `${text} ${CLASS_MEANING[cls]} ${fix}`,
      markdown: `**${id}** (${cls}): ${text}\n\n${CLASS_MEANING[cls]}\n\n${fix.replace("exceptions file", "exceptions file (`tenancy audit --exceptions FILE`)")}`,
    },
    defaultConfiguration: { level: CLASS_LEVEL[cls] },
    properties: {
      tags: ["security", "tenancy", cls],
      precision: "high",
      "security-severity": SECURITY_SEVERITY[cls],
      class: cls,
    },
  };
}

export function toSarif(result: AuditResult, options: SarifOptions | string): unknown {
  const { toolVersion, stack } = typeof options === "string" ? { toolVersion: options, stack: undefined } : options;
  const ids = [...new Set(result.findings.map((f) => f.id))].sort();
  const declarationUri = relativeUri(result.evidence?.declaration.repositoryPath ?? result.declaration);
  const evidence = result.evidence;
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [{
      tool: { driver: { name: TOOL_NAME, version: toolVersion, semanticVersion: toolVersion, informationUri: TOOL_INFORMATION_URI, rules: ids.map(ruleDescriptor) } },
      automationDetails: { id: sarifCategory(result, stack) },
      originalUriBaseIds: { [SRCROOT]: { description: { text: "The root of the repository holding the declaration." } } },
      results: result.findings.map((f) => ({
        ruleId: f.id,
        ruleIndex: ids.indexOf(f.id),
        level: levelOf(f),
        ...(f.excepted === undefined ? {} : { suppressions: [{ kind: "external", status: "accepted", justification: `${f.excepted.who}: ${f.excepted.reason} (until ${f.excepted.expires}, ${f.excepted.at})` }] }),
        message: { text: f.remediation === undefined ? f.message : `${f.message}. Remediation: ${f.remediation}` },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: f.file === undefined ? declarationUri : relativeUri(f.file), uriBaseId: SRCROOT },
            region: { startLine: f.line, startColumn: f.column },
          },
          logicalLocations: [{ name: f.object, kind: "object", ...(f.workspace === undefined ? {} : { fullyQualifiedName: `${result.organization}/${f.workspace}/${f.object}` }) }],
        }],
        partialFingerprints: { "tenancyFinding/v2": fingerprint(f) },
        properties: {
          class: f.class, object: f.object,
          ...(f.workspace === undefined ? {} : { workspace: f.workspace }),
          ...(f.remediation === undefined ? {} : { remediation: f.remediation }),
          ...(f.declared === undefined ? {} : { declared: f.declared }),
          ...(f.found === undefined ? {} : { found: f.found }),
        },
      })),
      ...(evidence === undefined ? {} : { properties: { evidence } }),
    }],
  };
}
