import { describe, expect, it } from "vitest";
import { checkCredentialsTables } from "../../../audit/catalog/credentials-table.ts";
import { checkTampered, dropRole, entry, relationOf, schemaOf } from "../fixture.ts";

describe("checkCredentialsTables on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkCredentialsTables, () => {}).summary).toEqual([]);
  });

  it("reports a dropped sealed-credentials table as missing", () => {
    const r = checkTampered(checkCredentialsTables, (s) => { s.relations = s.relations.filter((x) => !(x.schema === "acme__us_sales" && x.name === "integration_credentials")); });
    expect(r.summary).toEqual(["missing credentials-table-missing us-sales"]);
    expect(r.findings[0]!.message).toBe('the sealed-credentials table table "acme__us_sales.integration_credentials" of workspace "us-sales" does not exist');
  });

  it("reports a tampered sealed-credentials table as changed, saying what is wrong", () => {
    const r = checkTampered(checkCredentialsTables, (s) => {
      const change = (schema: string, facts: object) => { const r = relationOf(s, schema, "integration_credentials"); r.credentials = { ...r.credentials!, ...facts }; };
      const columns = relationOf(s, "acme__emea_support", "integration_credentials").credentials!.columns!;
      change("acme__emea_support", { triggers: 1, columns: [...columns, "extra:25:false:false"] });
      change("acme__internal", { owner: "acme__internal__app" });
      change("acme__us_sales", { relkind: "v" });
    });
    expect(r.summary).toEqual(["changed credentials-table-changed emea-support", "changed credentials-table-changed internal", "changed credentials-table-changed us-sales"]);
    expect(r.findings.map((f) => f.found)).toEqual([
      ["it has 1 trigger(s)", 'it has an unexpected column "extra"'],
      ['it is owned by "acme__internal__app", not "acme__internal__owner"'],
      ["it is not a plain table (relkind 'v')"],
    ]);
  });

});
