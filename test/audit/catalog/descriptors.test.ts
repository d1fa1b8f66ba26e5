import { describe, expect, it } from "vitest";
import { checkDescriptors } from "../../../audit/catalog/descriptors.ts";
import { checkTampered, dropRole, entry, relationOf, schemaOf } from "../fixture.ts";

describe("checkDescriptors on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkDescriptors, () => {}).summary).toEqual([]);
  });

  it("reports a missing revoke of PUBLIC's EXECUTE on an app role's future functions as boundary", () => {
    const r = checkTampered(checkDescriptors, (s) => { s.defaultAcls = s.defaultAcls.filter((d) => !(d.role === "acme__internal__app" && d.schema === undefined)); });
    expect(r.summary).toEqual(["boundary public-grant-in-workspace internal"]);
    expect(r.findings[0]!.message).toContain("revoke-default-functions-app-public");
  });

  it("reports a missing read grant as missing", () => {
    const r = checkTampered(checkDescriptors, (s) => { s.defaultAcls = s.defaultAcls.filter((d) => !(d.role === "acme__us_sales__app" && d.schema === "acme__us_sales")); });
    expect(r.summary).toEqual(["missing privilege-missing us-sales"]);
  });

  it("reports the read-only role reading the sealed credentials as unexpected", () => {
    const r = checkTampered(checkDescriptors, (s) => relationOf(s, "acme__us_sales", "integration_credentials").acl.push(entry("acme__us_sales__ro", "SELECT")));
    expect(r.summary).toEqual(["unexpected privilege-unexpected us-sales"]);
  });

});
