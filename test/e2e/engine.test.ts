// The e2e tier: the real Pulumi engine (built from Go modules when offline), the real program,
// a real embedded PostgreSQL. Slow by nature; vitest runs it as its own project.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, root, type Harness } from "./harness.ts";

const base = readFileSync(`${root}/stacks/dev/tenancy.yaml`, "utf8");
const withFinance = base.replace("workspaces:\n", "workspaces:\n  - slug: finance\n    name: Finance\n    members:\n      - { email: ana@acme.test, role: admin }\n");

async function schemas(h: Harness): Promise<string[]> {
  const rows = await h.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'acme\\_\\_%' ORDER BY 1");
  return rows.map((r) => r.nspname);
}

describe("the dev stack on the real engine", () => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness("dev", base); });
  afterAll(async () => { await h?.dispose(); });

  it("creates one schema per workspace on up", async () => {
    const result = await h.stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(await schemas(h)).toEqual(["acme__emea_support", "acme__internal", "acme__us_sales"]);
  });

  it("ran with @pulumi/aws installed but no aws plugin anywhere the engine could find one", async () => {
    expect(existsSync(join(root, "node_modules", "@pulumi", "aws", "package.json"))).toBe(true);
    const pluginDir = join(h.engineEnv.PULUMI_HOME!, "plugins");
    const plugins = existsSync(pluginDir) ? readdirSync(pluginDir) : [];
    expect(plugins.filter((p) => p.includes("aws"))).toEqual([]);
    const onPath = h.engineEnv.PATH!.split(delimiter).filter((d) => existsSync(join(d, "pulumi-resource-aws")));
    expect(onPath).toEqual([]);
  });

  it("previews no changes right after up", async () => {
    expect(await h.plannedChanges()).toEqual([]);
  });

  it("previews exactly the added workspace, and up applies it", async () => {
    await h.writeDeclaration(withFinance);
    // "finance" has what "internal" has (no integrations): the same resources, renamed.
    const internal = (await h.resources()).filter((r) => r.split(" ")[1]!.startsWith("acme-internal"));
    // The Workspace component, its boundary, its record and its (empty) credentials.
    expect(internal.length).toBe(4);
    expect(await h.plannedChanges()).toEqual(internal.map((r) => `create ${r.replace("acme-internal", "acme-finance")}`).sort());
    await h.stack.up();
    expect(await schemas(h)).toContain("acme__finance");
    expect(await h.plannedChanges()).toEqual([]);
  });

  it("previews exactly a new person, a role change and a removed member, per person, and up applies them", async () => {
    const changed = withFinance
      .replace("    - { email: dev@partner.test, name: Dev Patel }\n", "    - { email: dev@partner.test, name: Dev Patel }\n    - { email: erin@acme.test, name: Erin Lee }\n")
      .replace("      - { email: ben@acme.test, role: editor }\n      - { email: dev@partner.test, role: viewer }\n",
        "      - { email: ben@acme.test, role: admin }\n      - { email: erin@acme.test, role: viewer }\n");
    expect(changed).not.toBe(withFinance);
    await h.writeDeclaration(changed);
    expect(await h.plannedChanges()).toEqual([
      "update tenancy:control:OrganizationRecord acme-record",
      "update tenancy:control:WorkspaceRecord acme-emea-support-record",
    ]);
    const { stdout } = await h.stack.preview({ diff: true });
    expect(stdout).toMatch(/ben@acme\.test.*"editor" => "admin"/);
    expect(stdout).toMatch(/\+.*erin@acme\.test/);
    expect(stdout).toMatch(/-.*dev@partner\.test/);
    await h.stack.up();
    const rows = await h.query<{ email: string; role: string }>(
      "SELECT email, role FROM tenancy_control.memberships WHERE organization_slug = 'acme' AND workspace_slug = 'emea-support' ORDER BY 1");
    expect(rows).toEqual([{ email: "ana@acme.test", role: "admin" }, { email: "ben@acme.test", role: "admin" }, { email: "erin@acme.test", role: "viewer" }]);
    expect(await h.plannedChanges()).toEqual([]);
  });

  it("removes a workspace's last integration: an update deletes its sealed row, everything else stays", async () => {
    const before = readFileSync(h.declaration, "utf8");
    const without = before.replace("    integrations:\n      - { slug: slack, provider: slack, credentialsSecret: emeaSlackToken }\n", "");
    expect(without).not.toBe(before);
    await h.writeDeclaration(without);
    const planned = await h.plannedChanges();
    expect(planned).toContain("update tenancy:postgres:WorkspaceCredentials acme-emea-support-credentials");
    expect(planned.filter((c) => !c.startsWith("update tenancy:control:") && c !== "update tenancy:postgres:WorkspaceCredentials acme-emea-support-credentials")).toEqual([]);
    await h.stack.up();
    expect(await h.query("SELECT slug FROM acme__emea_support.integration_credentials")).toEqual([]);
    expect(await h.query("SELECT slug FROM acme__us_sales.integration_credentials ORDER BY 1")).toEqual([{ slug: "drive" }, { slug: "hubspot" }]);
    expect(await h.plannedChanges()).toEqual([]);
    await h.writeDeclaration(before);
    await h.stack.up();
    expect(await h.query("SELECT slug FROM acme__emea_support.integration_credentials")).toEqual([{ slug: "slack" }]);
  });

  it("shows no drift on refresh", async () => {
    const result = await h.stack.refresh();
    expect(Object.keys(result.summary.resourceChanges ?? {})).toEqual(["same"]);
  });

  it("refuses an invalid declaration before the engine changes anything", async () => {
    await h.writeDeclaration(withFinance.replace('accentColour: "#0A84FF"', 'accentColour: "blue"'));
    await expect(h.stack.up()).rejects.toThrow(/export-profile-valid/);
    expect(await schemas(h)).toHaveLength(4);
    await h.writeDeclaration(withFinance);
  });

  it("refuses to destroy workspaces that are not decommissioned, deleting nothing", async () => {
    await expect(h.stack.destroy()).rejects.toThrow(/protected/);
    expect(await schemas(h)).toHaveLength(4);
  });

  it("after decommissioning, destroy leaves no role, schema or row behind", async () => {
    await h.writeDeclaration(withFinance.replace(/^(  - slug: .*)$/gm, "$1\n    decommissioned: true"));
    expect((await h.plannedChanges()).filter((c) => !c.startsWith("update "))).toEqual([]);
    await h.stack.up();
    await h.stack.destroy();
    expect(await schemas(h)).toEqual([]);
    expect(await h.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%'")).toEqual([]);
    expect(await h.query("SELECT 1 FROM tenancy_control.organizations WHERE slug = 'acme'")).toEqual([]);
    for (const table of ["workspaces", "people", "memberships", "invitations"]) {
      expect(await h.query(`SELECT 1 FROM tenancy_control.${table} WHERE organization_slug = 'acme'`), table).toEqual([]);
    }
  });
});
