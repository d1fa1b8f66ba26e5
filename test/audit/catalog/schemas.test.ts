import { describe, expect, it } from "vitest";
import { checkSchemas } from "../../../audit/catalog/schemas.ts";
import { checkTampered, entry, schemaOf } from "../fixture.ts";

describe("checkSchemas on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkSchemas, () => {}).summary).toEqual([]);
  });

  it("reports a workspace schema owned by another role as changed, and an orphan schema as unexpected", () => {
    const r = checkTampered(checkSchemas, (s) => {
      schemaOf(s, "acme__internal").owner = "acme__internal__app";
      s.schemas.push({ name: "acme__ghost", owner: "postgres", acl: [entry("postgres", "USAGE")] });
    });
    expect(r.summary).toEqual(["unexpected schema-unexpected ghost", "changed schema-owner-changed internal"]);
    expect(r.findings[1]).toMatchObject({ declared: "acme__internal__owner", found: "acme__internal__app" });
  });

  it("reports a dropped workspace schema as missing", () => {
    const r = checkTampered(checkSchemas, (s) => { s.schemas = s.schemas.filter((x) => x.name !== "acme__us_sales"); });
    expect(r.summary).toEqual(["missing schema-missing us-sales"]);
  });
});
