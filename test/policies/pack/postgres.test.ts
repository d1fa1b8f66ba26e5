import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { workspaceNames } from "../../../components/naming.ts";
import { workspaceOfName } from "../../../policies/postgres.ts";
import { Token } from "../../../policies/tokens.ts";
import { changed, stackModel, stackSpecs } from "./fixtures.ts";
import { runPack, summary, type Spec } from "./harness.ts";

const dev = stackSpecs(stackModel("dev"));
const grant = (name: string, props: Record<string, unknown>, type: string = Token.PgGrant): Spec => ({ type, name, parent: "tenancy-test", props });
/** dev with one more entry in a workspace boundary's grants map. */
const boundaryWith = (boundary: string, id: string, g: Record<string, unknown>) =>
  changed(dev, boundary, (s) => ({ ...s, props: { ...s.props, grants: { ...(s.props!.grants as object), [id]: g } } }));

describe("the PostgreSQL policies", () => {
  it("reads the workspace back from every derived name", () => {
    const slug = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,8}){0,2}$/);
    fc.assert(fc.property(slug, slug, (org, ws) => {
      const names = workspaceNames(org, ws);
      return Object.values(names).every((n) => workspaceOfName(n) === names.schema);
    }));
    expect(workspaceOfName("tenancy_control")).toBeUndefined();
    expect(workspaceOfName("acme__emea__admin")).toBeUndefined();
  });

  it("refuses a hand-written grant of one workspace's schema to another workspace's role", async () => {
    const bad = grant("cross", { action: "grant", role: "acme__internal__app", on: { kind: "schema", schema: "acme__emea_support" }, privileges: ["USAGE"] });
    const reported = await runPack([...dev, bad]);
    expect(summary(reported)).toEqual(["grant-within-workspace cross"]);
    expect(reported[0]!.message).toBe('Grant "cross" gives role "acme__internal__app" of workspace "acme__internal" access to schema "acme__emea_support" of workspace "acme__emea_support"; a workspace\'s roles must reach only its own schema');
  });

  it("refuses cross-workspace default privileges and table grants, and allows a grant inside one workspace", async () => {
    const defaults = grant("defaults", { action: "grant", role: "acme__internal__ro", on: { kind: "default-privileges", forRole: "acme__us_sales__app", objectType: "tables" }, privileges: ["SELECT"] });
    const tables = grant("tables", { action: "grant", role: "acme__internal__ro", on: { kind: "all-tables-in-schema", schema: "acme__us_sales" }, privileges: ["SELECT"] });
    const own = grant("own", { action: "grant", role: "acme__internal__ro", on: { kind: "all-tables-in-schema", schema: "acme__internal" }, privileges: ["SELECT"] });
    const revoke = grant("revoke", { action: "revoke", role: "acme__internal__ro", on: { kind: "schema", schema: "acme__us_sales" }, privileges: ["USAGE"] });
    expect(summary(await runPack([...dev, defaults, tables, own, revoke]))).toEqual(["grant-within-workspace defaults", "grant-within-workspace tables"]);
  });

  it("refuses @pulumi/postgresql grants, role memberships and default privileges across workspaces", async () => {
    const specs = [
      grant("pg-grant", { role: "acme__internal__app", database: "tenancy", schema: "acme__us_sales", objectType: "table", privileges: ["SELECT"] }, Token.PostgresGrant),
      grant("pg-member", { role: "acme__internal__app", grantRole: "acme__us_sales__owner" }, Token.PostgresGrantRole),
      grant("pg-defaults", { role: "acme__internal__ro", database: "tenancy", owner: "acme__us_sales__app", schema: "acme__us_sales", objectType: "table", privileges: ["SELECT"] }, Token.PostgresDefaultPrivileges),
      grant("pg-fine", { role: "acme__internal__app", grantRole: "acme__internal__ro" }, Token.PostgresGrantRole),
    ];
    expect(summary(await runPack([...dev, ...specs]))).toEqual(["grant-within-workspace pg-defaults", "grant-within-workspace pg-defaults", "grant-within-workspace pg-grant", "grant-within-workspace pg-member"]);
  });

  it("refuses anything granted to PUBLIC in a workspace schema, and allows the components' revokes", async () => {
    const pub = grant("public", { action: "grant", role: "PUBLIC", on: { kind: "schema", schema: "acme__internal" }, privileges: ["USAGE"] });
    const pg = grant("pg-public", { role: "public", database: "tenancy", schema: "acme__internal", objectType: "schema", privileges: ["USAGE"] }, Token.PostgresGrant);
    const elsewhere = grant("public-elsewhere", { action: "grant", role: "PUBLIC", on: { kind: "schema", schema: "reporting" }, privileges: ["USAGE"] });
    expect(summary(await runPack([...dev, pub, pg, elsewhere]))).toEqual(["no-public-grant-in-workspace pg-public", "no-public-grant-in-workspace public"]);
  });

  it("checks every grant a workspace boundary makes: its own pass, one crossing into another workspace is reported at the boundary", async () => {
    expect(summary(await runPack(dev))).toEqual([]);
    const cross = boundaryWith("acme-internal-boundary", "schema-us-sales", { action: "grant", role: "acme__internal__app", on: { kind: "schema", schema: "acme__us_sales" }, privileges: ["USAGE"] });
    const reported = await runPack(cross);
    expect(summary(reported)).toEqual(["grant-within-workspace acme-internal-boundary"]);
    expect(reported[0]!.message).toBe('WorkspaceBoundary "acme-internal-boundary" gives role "acme__internal__app" of workspace "acme__internal" access to schema "acme__us_sales" of workspace "acme__us_sales"; a workspace\'s roles must reach only its own schema');
    const future = boundaryWith("acme-internal-boundary", "default-us-sales", { action: "grant", role: "acme__internal__ro", on: { kind: "default-privileges", forRole: "acme__us_sales__app", objectType: "tables" }, privileges: ["SELECT"] });
    expect(summary(await runPack(future))).toEqual(["grant-within-workspace acme-internal-boundary"]);
  });

  it("refuses a workspace boundary granting PUBLIC anything in a workspace, and allows its revokes from PUBLIC", async () => {
    const pub = boundaryWith("acme-us-sales-boundary", "schema-public", { action: "grant", role: "PUBLIC", on: { kind: "schema", schema: "acme__us_sales" }, privileges: ["USAGE"] });
    const reported = await runPack(pub);
    expect(summary(reported)).toEqual(["no-public-grant-in-workspace acme-us-sales-boundary"]);
    expect(reported[0]!.message).toBe('WorkspaceBoundary "acme-us-sales-boundary" gives PUBLIC privileges reaching "acme__us_sales" of workspace "acme__us_sales"; nothing in a workspace is granted to PUBLIC');
    const revokes = dev.find((s) => s.name === "acme-us-sales-boundary")!.props!.grants as Record<string, { role: string; action: string }>;
    expect(Object.values(revokes).filter((g) => g.role === "PUBLIC").map((g) => g.action)).toEqual(["revoke", "revoke", "revoke"]);
  });
});
