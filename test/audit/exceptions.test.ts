// The exceptions file: accepted findings stay visible but stop failing the audit until their
// expiry; an expired entry is a finding; a malformed file is refused naming file, line and key.
import { describe, expect, it } from "vitest";
import { applyExceptions, parseExceptions, type ExceptionsFile } from "../../audit/exceptions.ts";
import { failingFindings } from "../../cli/audit.ts";
import { auditTampered, entry, schemaOf } from "./fixture.ts";

const FILE = "audit-exceptions.yaml";
const GRANT = 'schema "acme__emea_support"';

const yaml = (expires: string, object = GRANT) => `exceptions:
  - rule: grant-crosses-boundary
    object: '${object}'
    reason: the migration job reads it until the cut-over
    who: ana@acme.test
    expires: ${expires}
`;

function parsed(text: string): ExceptionsFile {
  const p = parseExceptions(text, FILE);
  if ("errors" in p) throw new Error(p.errors.join("\n"));
  return p;
}

// The fixture's snapshot is 2026-02-01.
const audited = (text: string) => auditTampered((s) => {
  schemaOf(s, "acme__emea_support").acl.push(entry("acme__us_sales__app", "USAGE"));
}, { exceptions: parsed(text) });

describe("exceptions file", () => {
  it("reads entries with their line, an unquoted date as a date", () => {
    expect(parsed(yaml("2026-03-31")).entries).toEqual([{
      rule: "grant-crosses-boundary", object: GRANT, reason: "the migration job reads it until the cut-over", who: "ana@acme.test", expires: "2026-03-31", line: 2, column: 5,
    }]);
  });

  it("marks a matched finding excepted: reported, not failing, at either --fail-on level", () => {
    const result = audited(yaml("2026-03-31"));
    const grant = result.findings.find((f) => f.id === "grant-crosses-boundary")!;
    expect(grant.excepted).toEqual({ reason: "the migration job reads it until the cut-over", who: "ana@acme.test", expires: "2026-03-31", at: `${FILE}:2` });
    expect(result.clean).toBe(true);
    expect(result.counts).toMatchObject({ boundary: 1, excepted: 1 });
    expect(failingFindings(result, "warning")).toEqual([]);
    expect(failingFindings(result, "error")).toEqual([]);
  });

  it("holds through its expiry day, and not a day longer", () => {
    expect(audited(yaml("2026-02-01")).clean).toBe(true);
    const expired = audited(yaml("2026-01-31"));
    expect(expired.clean).toBe(false);
    expect(expired.findings.find((f) => f.id === "grant-crosses-boundary")!.excepted).toBeUndefined();
    const finding = expired.findings.find((f) => f.id === "exception-expired")!;
    expect(finding).toMatchObject({ class: "changed", file: FILE, line: 2, column: 5, declared: "2026-01-31", found: "2026-02-01" });
    expect(finding.message).toContain("expired on 2026-01-31");
    expect(finding.remediation).toMatch(/set a new expires date/);
  });

  it("reports an entry that matches nothing as info, which fails nothing", () => {
    const result = auditTampered(() => {}, { exceptions: parsed(yaml("2026-03-31", 'schema "acme__nothing"')) });
    expect(result.findings.filter((f) => f.id === "exception-unused")).toHaveLength(1);
    expect(result.clean).toBe(true);
  });

  it("--fail-on error fails on boundary and rule findings only", () => {
    const changedOnly = auditTampered((s) => { s.controlPlane.memberships.find((m) => m.workspace_slug === "us-sales" && m.email === "chloe@acme.test")!.role = "viewer"; });
    expect(changedOnly.findings.some((f) => f.class === "changed")).toBe(true);
    expect(failingFindings(changedOnly, "warning").length).toBeGreaterThan(0);
    expect(failingFindings(changedOnly, "error").filter((f) => f.class === "changed")).toEqual([]);
    const boundary = audited(yaml("2020-01-01"));
    expect(failingFindings(boundary, "error").map((f) => f.id)).toEqual(["grant-crosses-boundary"]);
  });

  it("refuses a malformed file naming file, line, key and bad value", () => {
    const errors = (text: string) => { const p = parseExceptions(text, FILE); return "errors" in p ? p.errors : []; };
    expect(errors(yaml("soon"))).toEqual([`${FILE}:6:14: exceptions[0].expires: must be a date YYYY-MM-DD; found "soon"`]);
    expect(errors(yaml("2026-03-31").replace("    who: ana@acme.test\n", ""))).toEqual([`${FILE}:2:5: exceptions[0]: the key "who" is missing`]);
    expect(errors(yaml("2026-03-31").replace("reason:", "raeson:"))).toEqual([
      `${FILE}:4:5: exceptions[0].raeson: unknown key "raeson"; an entry has rule, object, reason, who, expires`,
      `${FILE}:2:5: exceptions[0]: the key "reason" is missing`,
    ]);
    expect(errors("exceptions: [1]\n")).toEqual([`${FILE}:1:14: exceptions[0]: must be a mapping with rule, object, reason, who, expires`]);
    expect(errors("exceptions:\n  - rule: [a\n")[0]).toMatch(new RegExp(`^${FILE}:\\d+:\\d+: `));
    expect(errors("- rule: x\n")).toEqual([`${FILE}:1:1: (document): must be a mapping with the key "exceptions"`]);
  });

  it("applies to located findings without touching others", () => {
    const base = auditTampered(() => {});
    const same = applyExceptions(base.findings, { file: FILE, entries: [] }, "2026-02-01");
    expect(same).toEqual(base.findings);
  });
});
