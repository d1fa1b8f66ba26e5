import { describe, expect, it } from "vitest";
import { checkPrivileges } from "../../../audit/catalog/privileges.ts";
import { checkTampered, dropRole, entry, relationOf, schemaOf } from "../fixture.ts";

describe("checkPrivileges on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkPrivileges, () => {}).summary).toEqual([]);
  });

  it("reports another workspace's role with USAGE on a workspace schema as boundary", () => {
    const r = checkTampered(checkPrivileges, (s) => schemaOf(s, "acme__emea_support").acl.push(entry("acme__us_sales__app", "USAGE")));
    expect(r.summary).toEqual(["boundary grant-crosses-boundary emea-support"]);
    expect(r.findings[0]!.message).toBe('role "acme__us_sales__app" of workspace "us-sales" holds USAGE on schema "acme__emea_support": only workspace "emea-support"\'s own roles may reach its objects');
      });

  it("reports a workspace table readable by PUBLIC as boundary", () => {
    const r = checkTampered(checkPrivileges, (s) => relationOf(s, "acme__internal", "integration_credentials").acl.push(entry("PUBLIC", "SELECT")));
    expect(r.summary).toEqual(["boundary public-grant-in-workspace internal"]);
  });

  it("reports a column privilege of another workspace's role as boundary", () => {
    const r = checkTampered(checkPrivileges, (s) => relationOf(s, "acme__us_sales", "integration_credentials").columnAcl.push({ ...entry("acme__internal__ro", "SELECT"), column: "slug" }));
    expect(r.summary).toEqual(["boundary grant-crosses-boundary us-sales"]);
    expect(r.findings[0]!.object).toBe('column "slug" of table "acme__us_sales.integration_credentials"');
  });

  it("reports a workspace role reaching the control plane as boundary", () => {
    const r = checkTampered(checkPrivileges, (s) => relationOf(s, "tenancy_control", "memberships").acl.push(entry("acme__internal__app", "SELECT")));
    expect(r.summary).toEqual(["boundary control-plane-reachable internal"]);
  });

});
