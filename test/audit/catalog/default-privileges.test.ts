import { describe, expect, it } from "vitest";
import { checkDefaultPrivileges } from "../../../audit/catalog/default-privileges.ts";
import { checkTampered, dropRole, entry, relationOf, schemaOf } from "../fixture.ts";

describe("checkDefaultPrivileges on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkDefaultPrivileges, () => {}).summary).toEqual([]);
  });

  it("reports default privileges giving another workspace's role future tables as boundary", () => {
    // As ALTER DEFAULT PRIVILEGES does: one more entry in the existing row of that role, schema and type.
    const r = checkTampered(checkDefaultPrivileges, (s) => s.defaultAcls.find((d) => d.role === "acme__internal__app" && d.schema === "acme__internal" && d.objectType === "tables")!.acl.push(entry("acme__us_sales__ro", "SELECT", "acme__internal__app")));
    expect(r.summary).toEqual(["boundary default-privilege-crosses-boundary internal"]);
  });

});
