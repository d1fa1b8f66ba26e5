import { describe, expect, it } from "vitest";
import { checkMemberships } from "../../../audit/catalog/memberships.ts";
import { checkTampered, dropRole, entry, relationOf, schemaOf } from "../fixture.ts";

describe("checkMemberships on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkMemberships, () => {}).summary).toEqual([]);
  });

  it("reports a workspace role that is a member of another workspace's role, or of a predefined role, as boundary", () => {
    const r = checkTampered(checkMemberships, (s) => {
      s.memberships.push({ role: "acme__us_sales__owner", member: "acme__internal__app", admin: false, inherit: true, set: true });
      s.memberships.push({ role: "pg_read_all_data", member: "acme__us_sales__ro", admin: false, inherit: true, set: true });
    });
    expect(r.summary).toEqual(["boundary membership-crosses-boundary internal", "boundary membership-crosses-boundary us-sales"]);
  });

  it("reports a role outside the tenancy holding a workspace's role as boundary, but not the admin", () => {
    const r = checkTampered(checkMemberships, (s) => {
      s.memberships.push({ role: "acme__internal__app", member: "bob", admin: false, inherit: true, set: true });
      s.memberships.push({ role: "acme__internal__app", member: "postgres", admin: true, inherit: true, set: true });
    });
    expect(r.summary).toEqual(["boundary membership-crosses-boundary internal"]);
    expect(r.findings[0]!.message).toContain('role "bob" (outside the tenancy)');
  });

});
