// A tampered dev tenancy with fixed evidence, for the report formats (HTML, SARIF, evidence):
// one change of each kind the access matrix draws, plus a hostile role name to prove escaping.
import type { AuditOptions, AuditResult } from "../../audit/audit.ts";
import { withEvidence, type EvidenceWithoutDigest } from "../../audit/evidence.ts";
import { auditTampered, entry, relationOf, schemaOf } from "./fixture.ts";

/** A role name an attacker picks to break out of HTML, markdown and terminals. */
export const HOSTILE_ROLE = `evil"><img src=x onerror=alert(1)><script>alert(2)</script>\u202e`;

export const FIXED_EVIDENCE: EvidenceWithoutDigest = {
  at: "2026-02-01T12:00:00.000Z",
  server: { systemIdentifier: "7412345678901234567", version: "18.1" },
  declaration: { file: "stacks/dev/tenancy.yaml", repositoryPath: "stacks/dev/tenancy.yaml", sha256: "0".repeat(64), gitCommit: "a".repeat(40), gitDirty: false },
  toolkit: { name: "tenancy-as-code", version: "0.1.0" },
  engine: { pulumi: "3.246.0", node: "v22.0.0" },
  auditor: { currentUser: "tenancy_auditor", sessionUser: "audit_login" },
};

export function tamperedReport(options: AuditOptions = {}): AuditResult {
  const result = auditTampered((s) => {
    schemaOf(s, "acme__emea_support").acl.push(entry("acme__us_sales__app", "USAGE"));
    relationOf(s, "acme__internal", "integration_credentials").acl.push(entry("PUBLIC", "SELECT"));
    relationOf(s, "acme__us_sales", "integration_credentials").acl.push(entry(HOSTILE_ROLE, "SELECT"));
    s.roles.find((r) => r.name === "acme__internal__app")!.createrole = true;
    s.schemas.push({ name: "acme__ghost", owner: "postgres", acl: [] });
  }, { pendingInvitationDays: 7, ...options });
  return withEvidence(result, FIXED_EVIDENCE);
}
