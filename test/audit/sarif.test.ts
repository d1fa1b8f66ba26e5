// SARIF for GitHub code scanning: the SARIF Multitool (Microsoft's validator, npm
// @microsoft/sarif-multitool, a native binary) with its SARIF, GitHub and GitHub Advanced
// Security rule kinds reports no error and no warning; fingerprints follow what a finding is
// about, not its wording; URIs are relative to the repository root; one category per stack.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { AuditResult } from "../../audit/audit.ts";
import { formatAudit } from "../../audit/output.ts";
import { fingerprint, relativeUri, sarifCategory } from "../../audit/sarif.ts";
import { auditTampered, entry, schemaOf } from "./fixture.ts";
import { tamperedReport } from "./report-fixture.ts";

const run = promisify(execFile);
const multitool = createRequire(import.meta.url)("@microsoft/sarif-multitool") as string;
const dir = mkdtempSync(join(tmpdir(), "tenancy-sarif-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Sarif { runs: { tool: { driver: { rules: Rule[] } }; automationDetails: { id: string }; originalUriBaseIds: Record<string, unknown>; results: Result[] }[] }
interface Rule { id: string; name: string; fullDescription?: { text: string }; help?: { text: string; markdown: string }; properties: { tags: string[]; "security-severity": string } }
interface Result { ruleId: string; level: string; message: { text: string }; partialFingerprints: Record<string, string>; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[]; properties: { remediation?: string } }

const sarifOf = (result: AuditResult, stack = "dev") => JSON.parse(formatAudit(result, "sarif", { stack })) as Sarif;

/** The Multitool's findings on a SARIF file: [level, rule id, message] for each. */
async function validate(sarif: unknown, name: string): Promise<[string, string, string][]> {
  const input = join(dir, `${name}.sarif`);
  const output = join(dir, `${name}.validation.sarif`);
  writeFileSync(input, JSON.stringify(sarif, null, 2));
  // Sarif: the specification's rules; Gh and Ghas: what GitHub code scanning requires.
  await run(multitool, ["validate", "--rule-kind", "Sarif;Gh;Ghas", "--level", "Error;Warning;Note", "--output", output, input], { timeout: 120_000 });
  const report = JSON.parse(readFileSync(output, "utf8")) as { runs: { results?: { level?: string; ruleId: string; message: { text?: string; id?: string; arguments?: string[] } }[] }[] };
  return (report.runs[0]!.results ?? []).map((r) => [r.level ?? "warning", r.ruleId, r.message.text ?? `${r.message.id} ${r.message.arguments?.join(" ")}`]);
}

describe("audit SARIF for GitHub code scanning", () => {
  it("passes the SARIF Multitool's SARIF and GitHub rules with 0 errors and 0 warnings", { timeout: 180_000 }, async () => {
    // With an excepted finding (a suppression) and an expired exception (located in its own file) too.
    const exceptions = { file: "stacks/dev/audit-exceptions.yaml", entries: [
      { rule: "public-grant-in-workspace", object: 'table "acme__internal.integration_credentials"', reason: "r", who: "ana@acme.test", expires: "2999-01-01", line: 2, column: 5 },
      { rule: "role-dangerous-attribute", object: 'role "acme__internal__app"', reason: "r", who: "ana@acme.test", expires: "2020-01-01", line: 7, column: 5 },
    ] };
    const sarif = sarifOf(tamperedReport({ exceptions }));
    const results = sarif.runs[0]!.results as (Result & { suppressions?: unknown[] })[];
    expect(results.filter((r) => r.suppressions)).toHaveLength(1);
    expect(results.find((r) => r.ruleId === "exception-expired")!.locations[0]!.physicalLocation.artifactLocation.uri).toBe("stacks/dev/audit-exceptions.yaml");
    const findings = await validate(sarif, "tampered");
    const blocking = findings.filter(([level]) => level === "error" || level === "warning");
    expect(blocking).toEqual([]);
    // Notes are advice (message ids and arguments, snippets, help URIs, rule-id style); none is a GitHub rule.
    expect(findings.every(([, rule]) => rule.startsWith("SARIF"))).toBe(true);
  });

  it("the Multitool check can fail: rules without help or fullDescription are GitHub errors", { timeout: 180_000 }, async () => {
    const sarif = sarifOf(tamperedReport());
    for (const rule of sarif.runs[0]!.tool.driver.rules) { delete rule.help; delete rule.fullDescription; }
    const findings = await validate(sarif, "broken");
    expect(findings.filter(([level, rule]) => level === "error" && rule.startsWith("GH"))).toHaveLength(2 * sarif.runs[0]!.tool.driver.rules.length);
  });

  it("describes every rule with full description, help, security severity and tags", () => {
    for (const rule of sarifOf(tamperedReport()).runs[0]!.tool.driver.rules) {
      expect(rule.name).not.toBe(rule.id);
      expect(rule.fullDescription?.text).toMatch(/^(Checks that|Reports) /);
      expect(rule.help?.text.length).toBeGreaterThan(40);
      expect(rule.help?.markdown).toContain(`**${rule.id}**`);
      expect(Number(rule.properties["security-severity"])).toBeGreaterThan(0);
      expect(rule.properties.tags).toContain("security");
    }
    const severity = (id: string) => Number(sarifOf(tamperedReport()).runs[0]!.tool.driver.rules.find((r) => r.id === id)!.properties["security-severity"]);
    expect(severity("grant-crosses-boundary")).toBeGreaterThan(9); // critical on GitHub
    expect(severity("invitation-pending")).toBeLessThan(4);
  });

  it("fingerprints the rule and the object, not the message: a day count changing keeps every alert", () => {
    const day1 = sarifOf(auditTampered(() => {}, { pendingInvitationDays: 7 }));
    const day9 = sarifOf(auditTampered((s) => { s.snapshotAt = "2026-02-09T12:00:00.000Z"; }, { pendingInvitationDays: 7 }));
    const prints = (s: Sarif) => s.runs[0]!.results.map((r) => r.partialFingerprints["tenancyFinding/v2"]).sort();
    expect(day1.runs[0]!.results.map((r) => r.message.text)).not.toEqual(day9.runs[0]!.results.map((r) => r.message.text));
    expect(prints(day1)).toEqual(prints(day9));
  });

  it("gives two holders of privileges on one object two alerts", () => {
    const result = auditTampered((s) => {
      schemaOf(s, "acme__emea_support").acl.push(entry("acme__us_sales__app", "USAGE"), entry("acme__internal__app", "USAGE"), entry("acme__internal__app", "CREATE"));
    });
    const prints = result.findings.filter((f) => f.id === "grant-crosses-boundary").map(fingerprint);
    expect(prints).toHaveLength(3);
    expect(new Set(prints).size).toBe(3);
    const all = sarifOf(tamperedReport()).runs[0]!.results.map((r) => r.partialFingerprints["tenancyFinding/v2"]);
    expect(new Set(all).size).toBe(all.length);
  });

  it("locates results relative to the repository root, never by an absolute path", () => {
    const absolute = { ...tamperedReport(), declaration: "/home/ci/work/repo/stacks/dev/tenancy.yaml", evidence: undefined };
    const text = formatAudit(absolute, "sarif", { stack: "dev" });
    expect(text).not.toContain("/home/ci");
    expect(text).not.toContain("file:");
    const withEvidence = sarifOf(tamperedReport());
    for (const r of withEvidence.runs[0]!.results) expect(r.locations[0]!.physicalLocation.artifactLocation).toEqual({ uri: "stacks/dev/tenancy.yaml", uriBaseId: "%SRCROOT%" });
    expect(Object.keys(withEvidence.runs[0]!.originalUriBaseIds)).toEqual(["%SRCROOT%"]);
    expect(relativeUri("./stacks/prod dir/tenancy.yaml")).toBe("stacks/prod%20dir/tenancy.yaml");
    expect(relativeUri("C:\\work\\tenancy.yaml")).toBe("tenancy.yaml");
    expect(relativeUri("../../tmp/x/tenancy.yaml")).toBe("tenancy.yaml");
  });

  it("has one category per stack of an organization", () => {
    expect(sarifOf(tamperedReport(), "dev").runs[0]!.automationDetails.id).toBe("tenancy-audit/acme/dev/");
    expect(sarifOf(tamperedReport(), "prod").runs[0]!.automationDetails.id).toBe("tenancy-audit/acme/prod/");
    expect(sarifCategory(tamperedReport())).toBe("tenancy-audit/acme/postgres/"); // --database-url: the database names it
  });

  it("carries each finding's remediation", () => {
    const r = sarifOf(tamperedReport()).runs[0]!.results.find((x) => x.ruleId === "public-grant-in-workspace")!;
    expect(r.properties.remediation).toBe(`REVOKE SELECT ON TABLE "acme__internal"."integration_credentials" FROM PUBLIC;`);
    expect(r.message.text).toContain("Remediation: REVOKE SELECT");
  });
});
