import { describe, expect, it } from "vitest";
import { checkLargeObjects } from "../../../audit/catalog/large-objects.ts";
import { checkTampered } from "../fixture.ts";

describe("checkLargeObjects on the dev stack's live state", () => {
  it("reports a workspace role's large objects granted outside it, and a workspace role holding another's, not grants inside a workspace", () => {
    const r = checkTampered(checkLargeObjects, (s) => {
      s.server.largeObjects.push({ owner: "acme__internal__app", grantee: "thief", privilege: "SELECT", count: 2 });
      s.server.largeObjects.push({ owner: "someone", grantee: "acme__us_sales__app", privilege: "UPDATE", count: 1 });
      s.server.largeObjects.push({ owner: "acme__internal__app", grantee: "acme__internal__ro", privilege: "SELECT", count: 3 });
    });
    expect(r.summary).toEqual(["boundary large-object-crosses-boundary internal", "boundary large-object-crosses-boundary us-sales"]);
    expect(r.findings[0]!.remediation).toContain(`lomowner = '"acme__internal__app"'::pg_catalog.regrole`);
  });
});
