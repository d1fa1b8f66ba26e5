import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grantProblems, namesIn, PUBLIC, workspaceGrants, type GrantDescriptor } from "../../components/grants.ts";
import { identifierProblem, workspaceNames, type WorkspaceNames } from "../../components/naming.ts";

// Slugs as config/formats.ts allows them, without "--" (rule resource-names-valid refuses it)
// and short enough that every derived name is a valid identifier.
const orgSlug = fc.stringMatching(/^[a-z][a-z0-9-]{1,12}$/).filter((s) => !s.includes("--"));
const slug = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((s) => !s.includes("--"));
const valid = (names: WorkspaceNames) => Object.values(names).every((n) => identifierProblem(n) === undefined);

const emea = workspaceNames("acme", "emea-support");
const grants = workspaceGrants(emea, "app");

describe("workspaceGrants", () => {
  it("never names another workspace's roles or schema, whatever the slugs", () => {
    fc.assert(fc.property(orgSlug, slug, orgSlug, slug, (orgA, wsA, orgB, wsB) => {
      const a = workspaceNames(orgA, wsA);
      const b = workspaceNames(orgB, wsB);
      fc.pre(valid(a) && valid(b) && (orgA !== orgB || wsA !== wsB));
      const own = new Set(Object.values(a));
      const others = new Set(Object.values(b));
      for (const grant of workspaceGrants(a, "app")) {
        for (const name of namesIn(grant)) {
          expect(own.has(name)).toBe(true);
          expect(others.has(name)).toBe(false);
        }
      }
    }), { numRuns: 500 });
  });

  it("names PUBLIC only as the grantee of a revoke", () => {
    fc.assert(fc.property(orgSlug, slug, (org, ws) => {
      for (const grant of workspaceGrants(workspaceNames(org, ws), "app")) {
        if (grant.role === PUBLIC) expect(grant.action).toBe("revoke");
        expect(JSON.stringify(grant.on)).not.toContain(PUBLIC);
      }
    }));
  });

  it("derives descriptors that pass the providers' own check", () => {
    fc.assert(fc.property(orgSlug, slug, (org, ws) => {
      const names = workspaceNames(org, ws);
      fc.pre(valid(names));
      for (const grant of workspaceGrants(names, "app")) expect(grantProblems(grant)).toEqual([]);
    }));
  });

  it("keys every grant by a stable id, unique within the workspace", () => {
    expect(grants.map((g) => g.id)).toEqual([
      "revoke-schema-public",
      "connect-app",
      "connect-readonly",
      "schema-app",
      "schema-readonly",
      "tables-readonly",
      "default-tables-owner-readonly",
      "default-tables-app-readonly",
      "revoke-default-functions-owner-public",
      "revoke-default-functions-app-public",
    ]);
  });

  it("gives the readonly role nothing that writes", () => {
    const toReadonly = grants.filter((g) => g.role === emea.readonly && g.action === "grant");
    expect(new Set(toReadonly.flatMap((g) => g.privileges))).toEqual(new Set(["CONNECT", "USAGE", "SELECT"]));
  });

  it("makes tables created later by the owner or the app readable by the readonly role", () => {
    const future = grants.filter((g) => g.on.kind === "default-privileges" && g.action === "grant");
    expect(future.map((g) => [g.on, g.role, g.privileges])).toEqual([
      [{ kind: "default-privileges", forRole: emea.owner, schema: emea.schema, objectType: "tables" }, emea.readonly, ["SELECT"]],
      [{ kind: "default-privileges", forRole: emea.app, schema: emea.schema, objectType: "tables" }, emea.readonly, ["SELECT"]],
    ]);
  });

  it("revokes PUBLIC's EXECUTE on future functions in each creating role's global defaults", () => {
    // IN SCHEMA defaults can only add to the global ones, so these revokes carry no schema.
    const revokes = grants.filter((g) => g.on.kind === "default-privileges" && g.action === "revoke");
    expect(revokes.map((g) => g.on)).toEqual([
      { kind: "default-privileges", forRole: emea.owner, objectType: "functions" },
      { kind: "default-privileges", forRole: emea.app, objectType: "functions" },
    ]);
  });

  it("carries a Pulumi input as the database without looking at it", () => {
    const marker = { input: true };
    const onDatabase = workspaceGrants(emea, marker).filter((g) => g.on.kind === "database");
    expect(onDatabase.map((g) => (g.on as { database: unknown }).database)).toEqual([marker, marker]);
  });
});

describe("grantProblems", () => {
  const schemaGrant: GrantDescriptor = { id: "x", action: "grant", role: "acme__a__app", on: { kind: "schema", schema: "acme__a" }, privileges: ["USAGE"] };

  it("accepts a well-formed grant", () => {
    expect(grantProblems(schemaGrant)).toEqual([]);
  });

  it("refuses a grant to PUBLIC", () => {
    expect(grantProblems({ ...schemaGrant, role: PUBLIC })).toEqual(["PUBLIC may only appear in revokes; got a grant to PUBLIC"]);
  });

  it("refuses privileges outside the allow-list of the object", () => {
    expect(grantProblems({ ...schemaGrant, privileges: ["ALL"] })).toEqual(['privilege "ALL" is not allowed on schema; allowed: USAGE, CREATE']);
    expect(grantProblems({ ...schemaGrant, privileges: ["USAGE; DROP SCHEMA acme__a"] })).toHaveLength(1);
    expect(grantProblems({ ...schemaGrant, privileges: ["SELECT"] })).toHaveLength(1);
    expect(grantProblems({ ...schemaGrant, privileges: [] })).toEqual(["privileges must be a non-empty list"]);
  });

  it("refuses identifiers that would need quoting", () => {
    expect(grantProblems({ ...schemaGrant, role: 'x"; DROP ROLE postgres; --' })).toEqual(['role must be a plain lower-case identifier; got "x\\"; DROP ROLE postgres; --"']);
    expect(grantProblems({ ...schemaGrant, on: { kind: "schema", schema: "Acme" } })).toHaveLength(1);
    expect(grantProblems({ ...schemaGrant, on: { kind: "default-privileges", forRole: "a".repeat(64), objectType: "tables" }, privileges: ["SELECT"] })).toHaveLength(1);
  });

  it("refuses unknown object kinds and default-privilege types, and revokes on all tables", () => {
    expect(grantProblems({ ...schemaGrant, on: { kind: "table", schema: "s" } as never })).toHaveLength(2);
    expect(grantProblems({ ...schemaGrant, on: { kind: "default-privileges", forRole: "r", objectType: "schema" as never } })[0]).toMatch(/^objectType must be one of/);
    expect(grantProblems({ ...schemaGrant, action: "revoke", role: PUBLIC, on: { kind: "all-tables-in-schema", schema: "s" }, privileges: ["SELECT"] }))
      .toEqual(["all-tables-in-schema supports grants only"]);
  });
});
