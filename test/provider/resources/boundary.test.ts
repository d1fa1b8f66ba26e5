// tenancy:postgres:WorkspaceBoundary's check and diff (provider/resources/boundary.ts): pure, no
// database. What create/read/update/delete do to a server is test/e2e/provider-kinds.test.ts.
import { describe, expect, it } from "vitest";
import { workspaceGrants } from "../../../components/grants.ts";
import { workspaceNames, type WorkspaceNames } from "../../../components/naming.ts";
import { deriveAppPassword, generateDataKey } from "../../../components/credentials-crypto.ts";
import { passwordDigest } from "../../../provider/postgres/roles.ts";
import { boundaryKind, type BoundaryInputs, type BoundaryState } from "../../../provider/resources/boundary.ts";
import { UNKNOWN, type Keys } from "../../../provider/server.ts";

const KEYS: Keys = { masterKey: await generateDataKey() };
const PASSWORD = await deriveAppPassword(KEYS.masterKey!, "acme", "emea", "1");
const diff = (olds: BoundaryState, news: BoundaryInputs, keys: Keys = KEYS) => boundaryKind.diff(olds, news, keys);
const emea = workspaceNames("acme", "emea");
const us = workspaceNames("acme", "us");

function inputs(names: WorkspaceNames = emea, over: Partial<BoundaryInputs> = {}): BoundaryInputs {
  return {
    organization: "acme", workspace: names === us ? "us" : "emea", names, database: "tenancy", passwordGeneration: "1",
    grants: Object.fromEntries(workspaceGrants(names, "tenancy").map(({ id, ...g }) => [id, g])), ...over,
  };
}

/** What create keeps for `i` (provider/resources/boundary.ts stateOf), as a refresh would read it back clean. */
function stateOf(i: BoundaryInputs, over: Partial<BoundaryState> = {}): BoundaryState {
  return {
    ...i, passwordDigest: passwordDigest(PASSWORD), roles: { [i.names.owner]: "NOLOGIN", [i.names.app]: "LOGIN", [i.names.readonly]: "NOLOGIN" },
    schemaOwner: i.names.owner, credentialsTable: "ok", outsiders: [], ...over,
  };
}

const withGrant = (id: string, grant: unknown, base = inputs()) => ({ ...base, grants: { ...base.grants, [id]: grant } }) as BoundaryInputs;
const properties = (i: BoundaryInputs) => boundaryKind.check(i).map((f) => f.property);

describe("WorkspaceBoundary's check", () => {
  it("accepts the boundary the Workspace declares", () => {
    expect(boundaryKind.check(inputs())).toEqual([]);
    expect(boundaryKind.check(inputs(us))).toEqual([]);
  });

  it("refuses a grant naming another workspace's role or schema, whatever the kind of object", () => {
    const cases = {
      "role": { action: "grant", role: us.app, on: { kind: "schema", schema: emea.schema }, privileges: ["USAGE"] },
      "schema": { action: "grant", role: emea.app, on: { kind: "schema", schema: us.schema }, privileges: ["USAGE"] },
      "tables": { action: "grant", role: emea.readonly, on: { kind: "all-tables-in-schema", schema: us.schema }, privileges: ["SELECT"] },
      "future": { action: "grant", role: emea.readonly, on: { kind: "default-privileges", forRole: us.app, objectType: "tables" }, privileges: ["SELECT"] },
      "future-in": { action: "grant", role: emea.readonly, on: { kind: "default-privileges", forRole: emea.app, schema: us.schema, objectType: "tables" }, privileges: ["SELECT"] },
    };
    for (const [id, grant] of Object.entries(cases)) {
      const failures = boundaryKind.check(withGrant(id, grant));
      expect(failures, id).toHaveLength(1);
      expect(failures[0]!.property).toBe(`grants.${id}`);
      expect(failures[0]!.reason).toMatch(new RegExp(`^names "acme__us(__app)?", which is not a role or schema of workspace "emea"$`));
    }
  });

  it("refuses a grant to PUBLIC, and accepts revokes from PUBLIC", () => {
    const failures = boundaryKind.check(withGrant("public", { action: "grant", role: "PUBLIC", on: { kind: "schema", schema: emea.schema }, privileges: ["USAGE"] }));
    expect(failures).toEqual([{ property: "grants.public", reason: "PUBLIC may only appear in revokes; got a grant to PUBLIC" }]);
    expect(boundaryKind.check(withGrant("revoke", { action: "revoke", role: "PUBLIC", on: { kind: "schema", schema: emea.schema }, privileges: ["CREATE"] }))).toEqual([]);
  });

  it("refuses bad identifiers in the names, the database and the grants", () => {
    expect(properties(inputs({ ...emea, app: "Acme-App" }))).toContain("app");
    expect(properties(inputs(emea, { database: 'tenancy"; DROP DATABASE x; --' }))).toContain("database");
    // The old WorkspaceDatabase refused names PostgreSQL would truncate; the provider still does.
    expect(properties(inputs({ ...emea, owner: `a${"b".repeat(63)}` }))).toContain("owner");
    const quoted = boundaryKind.check(withGrant("quoted", { action: "grant", role: `${emea.app}" WITH GRANT OPTION; --`, on: { kind: "schema", schema: emea.schema }, privileges: ["USAGE"] }));
    expect(quoted.map((f) => f.property)).toEqual(["grants.quoted", "grants.quoted"]);
    expect(quoted[0]!.reason).toMatch(/^role must be a plain lower-case identifier/);
  });

  it("refuses privileges an object does not take", () => {
    const failures = boundaryKind.check(withGrant("too-much", { action: "grant", role: emea.app, on: { kind: "schema", schema: emea.schema }, privileges: ["USAGE", "SUPERUSER"] }));
    expect(failures).toEqual([{ property: "grants.too-much", reason: 'privilege "SUPERUSER" is not allowed on schema; allowed: USAGE, CREATE' }]);
  });

  it("takes a password generation, never a password: the provider derives it from its master key", () => {
    for (const bad of ["", "Two", "2 ", "x".repeat(33), "-1", "1/2"]) {
      expect(properties(inputs(emea, { passwordGeneration: bad })), bad).toEqual(["passwordGeneration"]);
    }
    expect(properties(inputs(emea, { passwordGeneration: "2026-12" }))).toEqual([]);
    expect(Object.keys(inputs())).not.toContain("appPassword");
  });

  it("leaves what a preview does not know yet to the update", () => {
    expect(boundaryKind.check(inputs(emea, { passwordGeneration: UNKNOWN, database: UNKNOWN }))).toEqual([]);
    expect(boundaryKind.check(withGrant("later", { action: "grant", role: emea.app, on: { kind: "database", database: UNKNOWN }, privileges: ["CONNECT"] }))).toEqual([]);
  });
});

describe("WorkspaceBoundary's diff", () => {
  it("sees no change when the server holds what is declared", async () => {
    expect((await diff(stateOf(inputs()), inputs()))).toEqual({ replaces: [], detailedDiff: {}, deleteBeforeReplace: true });
  });

  it("keys grant changes by the grant's stable id", async () => {
    const i = inputs();
    const { "schema-readonly": _, ...without } = i.grants;
    const changed = { ...without, "connect-app": { ...i.grants["connect-app"]!, privileges: ["CONNECT", "TEMPORARY"] }, extra: { action: "grant", role: emea.readonly, on: { kind: "schema", schema: emea.schema }, privileges: ["USAGE"] } } as BoundaryInputs["grants"];
    expect((await diff(stateOf(i), { ...i, grants: changed }))).toEqual({
      replaces: [], deleteBeforeReplace: true,
      detailedDiff: { 'grants["schema-readonly"]': "delete", 'grants["connect-app"]': "update", 'grants["extra"]': "add" },
    });
  });

  it("tells a changed app password by its digest, never keeping the password", async () => {
    const state = stateOf(inputs());
    expect(JSON.stringify(state)).not.toContain(PASSWORD);
    // A new generation, or another master key, is another password.
    expect((await diff(state, inputs(emea, { passwordGeneration: "2" }))).detailedDiff).toEqual({ appPassword: "update" });
    expect((await diff(state, inputs(), { masterKey: await generateDataKey() })).detailedDiff).toEqual({ appPassword: "update" });
    // Unknown during a preview: the generation, or the provider's configuration.
    expect((await diff(state, inputs(emea, { passwordGeneration: UNKNOWN }))).detailedDiff).toEqual({ appPassword: "update" });
    expect((await boundaryKind.diff(state, inputs())).detailedDiff).toEqual({ appPassword: "update" });
    // An imported boundary has no digest: the first update sets the declared password.
    expect((await diff({ ...state, passwordDigest: "" }, inputs())).detailedDiff).toEqual({ appPassword: "update" });
  });

  it("updates in place to take back privileges found crossing the boundary, and to repair drift", async () => {
    const i = inputs();
    expect((await diff(stateOf(i, { outsiders: [`schema ${emea.schema} ${us.app} USAGE`] }), i))).toEqual({ replaces: [], detailedDiff: { outsiders: "update" }, deleteBeforeReplace: true });
    expect((await diff(stateOf(i, { credentialsTable: "has a trigger t" }), i)).detailedDiff).toEqual({ credentialsTable: "update" });
    expect((await diff(stateOf(i, { schemaOwner: us.owner }), i)).detailedDiff).toEqual({ schemaOwner: "update" });
    const { [emea.readonly]: _, ...rolesLeft } = stateOf(i).roles;
    expect((await diff(stateOf(i, { roles: { ...rolesLeft, [emea.app]: "NOLOGIN" } }), i)).detailedDiff).toEqual({ [`roles["${emea.readonly}"]`]: "add", [`roles["${emea.app}"]`]: "update" });
  });

  it("reports no change for a crossing the last apply could not take back, and a change for any other", async () => {
    const i = inputs();
    const stuck = `tenancy: has-member ${emea.owner} ${us.readonly} membership`;
    const fresh = `tenancy: routine ${emea.schema}.p() PUBLIC EXECUTE`;
    expect((await diff(stateOf(i, { outsiders: [stuck], notTakenBack: [stuck] }), i)).detailedDiff).toEqual({});
    expect((await diff(stateOf(i, { outsiders: [stuck, fresh], notTakenBack: [stuck] }), i)).detailedDiff).toEqual({ outsiders: "update" });
  });

  it("replaces, deleting first, when the names, the workspace, the organization or the database change", async () => {
    const moved = (await diff(stateOf(inputs()), inputs(us)));
    expect(moved.replaces).toEqual(["workspace", "names"]);
    expect(moved.deleteBeforeReplace).toBe(true);
    expect(moved.detailedDiff).toMatchObject({ workspace: "update-replace", names: "update-replace", schemaOwner: "update" });
    expect(moved.detailedDiff).toMatchObject({ [`roles["${us.app}"]`]: "add", [`roles["${emea.app}"]`]: "delete" });
    expect((await diff(stateOf(inputs()), inputs({ ...emea, readonly: "acme__emea__reader" }))).replaces).toEqual(["names"]);
    expect((await diff(stateOf(inputs()), inputs(emea, { organization: "globex" }))).replaces).toEqual(["organization"]);
    expect((await diff(stateOf(inputs()), inputs(emea, { database: "other" }))).replaces).toEqual(["database"]);
  });
});
