import { describe, expect, it } from "vitest";
import { checkRoles } from "../../../audit/catalog/roles.ts";
import { checkTampered, dropRole, entry, relationOf, schemaOf } from "../fixture.ts";

describe("checkRoles on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkRoles, () => {}).summary).toEqual([]);
  });

  it("reports a workspace role with CREATEROLE (or any elevated attribute) as boundary", () => {
    const r = checkTampered(checkRoles, (s) => { s.roles.find((x) => x.name === "acme__internal__app")!.createrole = true; s.roles.find((x) => x.name === "acme__us_sales__ro")!.bypassrls = true; });
    expect(r.summary).toEqual(["boundary role-dangerous-attribute internal", "boundary role-dangerous-attribute us-sales"]);
    expect(r.findings[0]!.message).toContain("it has CREATEROLE");
  });

  it("reports a dropped app role as missing", () => {
    const r = checkTampered(checkRoles, (s) => dropRole(s, "acme__internal__app"));
    expect(r.summary).toEqual(["missing role-missing internal"]);
  });

  it("reports a dropped auditor role as missing, organization-wide", () => {
    const r = checkTampered(checkRoles, (s) => dropRole(s, "tenancy_auditor"));
    expect(r.summary).toEqual(["missing role-missing -"]);
    expect(r.findings[0]!.object).toBe('role "tenancy_auditor"');
  });

});

describe("checkRoles on a role named like the tenancy's but no workspace's", () => {
  it("reports acme__emea_support__backdoor organization-wide, not under a workspace that cannot exist", () => {
    const r = checkTampered(checkRoles, (s) => {
      s.roles.push({ name: "acme__emea_support__backdoor", login: true, superuser: false, createrole: false, createdb: false, replication: false, bypassrls: false, inherit: true });
    });
    expect(r.summary).toEqual(["unexpected role-unexpected -"]);
    expect(r.findings[0]!.remediation).toBe('DROP ROLE "acme__emea_support__backdoor";');
  });
});
