import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { workspaceNames } from "../../../components/naming.ts";
import { workspaceOfName } from "../../../policies/postgres.ts";
import { Token } from "../../../policies/tokens.ts";
import { stackModel, stackSpecs } from "./fixtures.ts";
import { runPack, summary, type Spec } from "./harness.ts";

const dev = stackSpecs(stackModel("dev"));
const connection = { host: "127.0.0.1", port: 5432, user: "admin", password: "x", database: "tenancy" };
const grant = (name: string, props: Record<string, unknown>, type: string = Token.PgGrant): Spec => ({ type, name, parent: "tenancy-test", props: { ...props, connection }, secret: [["connection"]] });

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
    expect(reported[0]!.message).toBe('PgGrant "cross" gives role "acme__internal__app" of workspace "acme__internal" access to schema "acme__emea_support" of workspace "acme__emea_support"; a workspace\'s roles must reach only its own schema');
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
});
