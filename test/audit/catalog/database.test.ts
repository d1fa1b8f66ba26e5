import { describe, expect, it } from "vitest";
import { checkDatabase } from "../../../audit/catalog/database.ts";
import { checkTampered, entry } from "../fixture.ts";

describe("checkDatabase on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkDatabase, () => {}).summary).toEqual([]);
  });

  it("reports a workspace role or the auditor holding more on the database than grants.ts gives as unexpected", () => {
    const r = checkTampered(checkDatabase, (s) => { s.database.acl.push(entry("acme__internal__app", "CREATE"), entry("tenancy_auditor", "TEMPORARY")); });
    expect(r.summary).toEqual(["unexpected privilege-unexpected -", "unexpected privilege-unexpected internal"]);
    expect(r.findings[1]!.message).toBe('role "acme__internal__app" of workspace "internal" holds CREATE on database "postgres", which components/grants.ts does not grant');
  });
});
