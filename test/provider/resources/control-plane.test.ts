// The control-plane kinds' check and diff (provider/resources/control-plane.ts), the hand-written
// Grant's, and the tokens the program and the provider share: pure, no database. The member diff
// per person is in test/components/control-plane/diff.test.ts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../../../components/control-plane/args.ts";
import { migrationInputs } from "../../../components/control-plane/migrations.ts";
import { CONTROL_SCHEMA } from "../../../components/naming.ts";
import {
  CONTROL_PLANE_TYPE, GRANT_TYPE, ORGANIZATION_RECORD_TYPE, WORKSPACE_BOUNDARY_TYPE, WORKSPACE_CREDENTIALS_TYPE, WORKSPACE_RECORD_TYPE,
} from "../../../components/resources.ts";
import { checkDeclaration } from "../../../policies/declaration.ts";
import { boundaryKind } from "../../../provider/resources/boundary.ts";
import { controlPlaneKind, organizationRecordKind, workspaceRecordKind } from "../../../provider/resources/control-plane.ts";
import { credentialsKind } from "../../../provider/resources/credentials.ts";
import { grantKind } from "../../../provider/resources/grant.ts";
import type { Grant } from "../../../provider/postgres/grants-sql.ts";
import type { Diff } from "../../../provider/server.ts";

/** These kinds diff synchronously (the interface allows a promise, for the credentials' digests). */
function sync(d: Diff | Promise<Diff>): Diff {
  if (d instanceof Promise) throw new Error("expected a synchronous diff");
  return d;
}

const devFile = new URL("../../../stacks/dev/tenancy.yaml", import.meta.url).pathname;
const dev = checkDeclaration(readFileSync(devFile, "utf8"), devFile).model!;
const org = organizationRecordArgs(dev);
const emea = dev.workspaces.find((w) => w.slug === "emea-support")!;
const record = { ...workspaceRecordArgs(dev, emea), members: workspaceMembersArgs(dev, emea).members };

describe("the provider's resource types", () => {
  it("are the tokens the program registers", () => {
    expect([boundaryKind, credentialsKind, grantKind, controlPlaneKind, organizationRecordKind, workspaceRecordKind].map((k) => k.token)).toEqual([
      WORKSPACE_BOUNDARY_TYPE, WORKSPACE_CREDENTIALS_TYPE, GRANT_TYPE, CONTROL_PLANE_TYPE, ORGANIZATION_RECORD_TYPE, WORKSPACE_RECORD_TYPE,
    ]);
  });
});

describe("OrganizationRecord's diff", () => {
  it("sees no change when nothing changed, whatever the order of people", () => {
    const people = Object.fromEntries(Object.entries(org.people).reverse());
    expect(sync(organizationRecordKind.diff(org, { ...org, people }))).toEqual({ replaces: [], detailedDiff: {} });
  });

  it("keys the directory's changes by person", () => {
    const { "dev@partner.test": _, ...rest } = org.people;
    const people = { ...rest, "ana@acme.test": { ...org.people["ana@acme.test"]!, name: "Ana R." }, "eve@acme.test": { email: "eve@acme.test" } };
    expect(sync(organizationRecordKind.diff(org, { ...org, people }))).toEqual({
      replaces: [], detailedDiff: { 'people["ana@acme.test"]': "update", 'people["dev@partner.test"]': "delete", 'people["eve@acme.test"]': "add" },
    });
  });

  it("updates the other properties in place, and replaces only for a new slug", () => {
    expect(sync(organizationRecordKind.diff(org, { ...org, billingMode: "per-workspace", plan: "studio" }))).toEqual({ replaces: [], detailedDiff: { billingMode: "update", plan: "update" } });
    expect(sync(organizationRecordKind.diff(org, { ...org, slug: "globex" }))).toEqual({ replaces: ["slug"], detailedDiff: { slug: "update-replace" } });
  });
});

describe("WorkspaceRecord's check", () => {
  it("accepts the record and members the Workspace sends", () => {
    expect(workspaceRecordKind.check(record)).toEqual([]);
  });

  it("refuses member keys that are not an email's comparison key, and members without a role", () => {
    for (const members of [{ "Ana@ACME.test": "admin" }, { "ana-at-acme": "admin" }, { "ana@acme.test": "" }] as Record<string, string>[]) {
      expect(workspaceRecordKind.check({ ...record, members }).map((f) => f.property), JSON.stringify(members)).toEqual(["members"]);
    }
  });

  it("reports the record's own problems with the property at fault", () => {
    expect(workspaceRecordKind.check({ ...record, slug: "EMEA" }).map((f) => f.property)).toEqual(["slug"]);
  });
});

describe("ControlPlane's check and diff", () => {
  const plane = { schema: CONTROL_SCHEMA, database: "tenancy", migrations: migrationInputs() };

  it("accepts this toolkit's migrations and refuses them out of order", () => {
    expect(controlPlaneKind.check(plane)).toEqual([]);
    const first = plane.migrations[0]!;
    expect(controlPlaneKind.check({ ...plane, migrations: [{ ...first, version: 2 }, first] })).toEqual([
      { property: "migrations", reason: "migration v1 follows v2; versions must strictly increase" },
    ]);
  });

  it("updates, never replaces, when a migration is added (replacing would drop every organization's records)", () => {
    const first = plane.migrations[0]!;
    const older = { ...plane, migrations: [first] };
    const newer = { ...plane, migrations: [first, { ...first, version: first.version + 1, name: "next", checksum: "0".repeat(64) }] };
    const ok = { auditor: "ok" };
    expect(sync(controlPlaneKind.diff({ ...plane, ...ok }, plane))).toEqual({ replaces: [], detailedDiff: {} });
    expect(sync(controlPlaneKind.diff({ ...older, ...ok }, newer))).toEqual({ replaces: [], detailedDiff: { migrations: "update" } });
    expect(sync(controlPlaneKind.diff({ ...plane, ...ok }, { ...plane, database: "other" }))).toEqual({ replaces: [], detailedDiff: { database: "update" } });
  });

  it("updates in place when a refresh found the auditor role drifted, or state predates it", () => {
    expect(sync(controlPlaneKind.diff({ ...plane, auditor: "it can log in" }, plane))).toEqual({ replaces: [], detailedDiff: { auditor: "update" } });
    expect(sync(controlPlaneKind.diff({ ...plane } as never, plane))).toEqual({ replaces: [], detailedDiff: { auditor: "update" } });
  });
});

describe("a hand-written Grant's check and diff", () => {
  const grant: Grant = { action: "grant", role: "acme__emea__ro", on: { kind: "all-tables-in-schema", schema: "acme__emea", except: ["integration_credentials"] }, privileges: ["SELECT"] };

  it("refuses a grant to PUBLIC and privileges the object does not take", () => {
    expect(grantKind.check(grant)).toEqual([]);
    expect(grantKind.check({ ...grant, role: "PUBLIC" }).map((f) => f.reason)).toContain("PUBLIC may only appear in revokes; got a grant to PUBLIC");
    expect(grantKind.check({ ...grant, privileges: ["USAGE"] })).toHaveLength(1);
  });

  it("updates in place for privileges or exceptions, and replaces, revoking first, for another grantee or object", () => {
    expect(sync(grantKind.diff(grant, grant))).toEqual({ replaces: [], detailedDiff: {}, deleteBeforeReplace: true });
    expect(sync(grantKind.diff(grant, { ...grant, privileges: ["SELECT", "INSERT"] })).detailedDiff).toEqual({ privileges: "update" });
    expect(sync(grantKind.diff(grant, { ...grant, privileges: [...grant.privileges].reverse() })).detailedDiff).toEqual({});
    expect(sync(grantKind.diff(grant, { ...grant, on: { kind: "all-tables-in-schema", schema: "acme__emea" } })).detailedDiff).toEqual({ "on.except": "update" });
    expect(sync(grantKind.diff(grant, { ...grant, role: "acme__emea__app" }))).toEqual({ replaces: ["on"], detailedDiff: { on: "update-replace" }, deleteBeforeReplace: true });
  });
});
