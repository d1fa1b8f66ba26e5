// Each finding carries what to run: SQL built from the names the diff reports (quoted, never
// pasted), or the tenancy command that puts the declared state back.
import { describe, expect, it } from "vitest";
import { remediationFor, sqlIdent } from "../../audit/remediation.ts";
import { auditTampered, entry, relationOf, schemaOf } from "./fixture.ts";

const fix = (change: Parameters<typeof auditTampered>[0], id: string) => auditTampered(change).findings.find((f) => f.id === id)?.remediation;

describe("audit remediation", () => {
  it("revokes a cross-workspace column grant on its column", () => {
    expect(fix((s) => relationOf(s, "acme__us_sales", "integration_credentials").columnAcl.push({ ...entry("acme__internal__ro", "SELECT"), column: "slug" }), "grant-crosses-boundary"))
      .toBe(`REVOKE SELECT ("slug") ON TABLE "acme__us_sales"."integration_credentials" FROM "acme__internal__ro";`);
  });

  it("revokes a default privilege for the role and schema it was set for", () => {
    expect(fix((s) => s.defaultAcls.find((d) => d.role === "acme__internal__app" && d.schema === "acme__internal" && d.objectType === "tables")!.acl.push(entry("acme__us_sales__ro", "SELECT", "acme__internal__app")), "default-privilege-crosses-boundary"))
      .toBe(`ALTER DEFAULT PRIVILEGES FOR ROLE "acme__internal__app" IN SCHEMA "acme__internal" REVOKE SELECT ON TABLES FROM "acme__us_sales__ro";`);
  });

  it("revokes a membership crossing workspaces", () => {
    expect(fix((s) => s.memberships.push({ role: "acme__us_sales__ro", member: "acme__internal__app", admin: false, inherit: true, set: true }), "membership-crosses-boundary"))
      .toBe(`REVOKE "acme__us_sales__ro" FROM "acme__internal__app";`);
  });

  it("quotes a hostile name as one identifier", () => {
    const evil = `x"; DROP TABLE t; --`;
    expect(sqlIdent(evil)).toBe(`"x""; DROP TABLE t; --"`);
    expect(fix((s) => schemaOf(s, "acme__emea_support").acl.push(entry(evil, "USAGE")), "grant-crosses-boundary"))
      .toBe(`REVOKE USAGE ON SCHEMA "acme__emea_support" FROM "x""; DROP TABLE t; --";`);
  });

  it("points declared state that drifted at plan and apply", () => {
    expect(fix((s) => { s.schemas = s.schemas.filter((x) => x.name !== "acme__internal"); }, "schema-missing")).toMatch(/^tenancy plan --stack <stack>, then tenancy apply/);
  });

  it("keeps a remediation the diff set itself, and leaves unknown kinds without one", () => {
    expect(remediationFor({ class: "boundary", id: "some-new-kind", object: "x", message: "m", path: [] })).toBeUndefined();
  });

  it("every finding of the tampered fixtures has one except failing declaration rules", () => {
    const r = auditTampered((s) => {
      schemaOf(s, "acme__emea_support").acl.push(entry("acme__us_sales__app", "USAGE"));
      relationOf(s, "acme__internal", "integration_credentials").acl.push(entry("PUBLIC", "SELECT"));
      s.roles.find((x) => x.name === "acme__internal__app")!.createrole = true;
      s.schemas.push({ name: "acme__ghost", owner: "postgres", acl: [] });
      s.controlPlane.memberships.find((m) => m.workspace_slug === "us-sales" && m.email === "ben@acme.test")!.role = "viewer";
    }, { pendingInvitationDays: 7 });
    expect(r.findings.filter((f) => f.class !== "rule" && f.remediation === undefined)).toEqual([]);
  });
});
