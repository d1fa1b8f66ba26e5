// The control-plane records on the real engine (an inline Automation API program) against a real
// embedded PostgreSQL: what the SaaS reads after up, per-person previews, invitations, adoption,
// drift, the organization-delete guard, and the time a 100 x 10 tenancy takes.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memberChanges } from "../../components/control-plane/diff.ts";
import type { TenancyModel } from "../../config/model.ts";
import { createControlPlaneHarness, modelOf, type ControlPlaneHarness } from "./control-plane-harness.ts";

const root = new URL("../..", import.meta.url).pathname;
const dev = readFileSync(`${root}/stacks/dev/tenancy.yaml`, "utf8");
const T = "tenancy_control";

function edit(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`expected exactly one ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

const devPromotes = edit(dev, "{ email: dev@partner.test, role: viewer }", "{ email: dev@partner.test, role: admin }");
const withNewcomers = edit(
  edit(devPromotes, "      - { email: dev@partner.test, role: admin }\n", "      - { email: dev@partner.test, role: admin }\n      - { email: chloe@acme.test, role: viewer }\n"),
  "      - { email: chloe@acme.test, role: editor }\n", "      - { email: chloe@acme.test, role: editor }\n      - { email: ana@acme.test, role: viewer }\n",
);

/** The same declaration with every list reversed. */
function reordered(model: TenancyModel): TenancyModel {
  const org = model.organization!;
  return {
    ...model,
    organization: { ...org, people: [...org.people].reverse() },
    workspaces: model.workspaces.map((ws) => ({ ...ws, members: [...ws.members].reverse(), agents: [...ws.agents].reverse(), integrations: [...ws.integrations].reverse() })).reverse(),
  };
}

/** 100 workspaces x 10 members (of 250 people), each with an integration, two agents and a profile. */
function largeDeclaration(workspaces: number, members: number): string {
  const people = 250;
  const lines = ["version: 1", "organization:", "  slug: bigco", "  name: Big Co", "  billing: { mode: rollup, plan: agency, creditPool: { monthlyAllowance: 100000 } }",
    "  roles: { admin: [workspaces.manage, members.manage], editor: [agents.manage], viewer: [] }", "  people:"];
  for (let p = 0; p < people; p++) lines.push(`    - { email: p${p}@bigco.test, name: Person ${p}${p === 0 ? ", orgRole: admin" : ""} }`);
  lines.push("workspaces:");
  for (let w = 0; w < workspaces; w++) {
    lines.push(`  - slug: ws-${w}`, `    name: Workspace ${w}`, "    members:");
    for (let m = 0; m < members; m++) lines.push(`      - { email: p${(w * 7 + m) % people}@bigco.test, role: ${m === 0 ? "admin" : m < 4 ? "editor" : "viewer"} }`);
    lines.push(`    integrations: [{ slug: slack, provider: slack, credentialsSecret: ws${w}Slack }]`,
      `    exportProfile: { letterhead: "WS ${w}", accentColour: "#0A84FF", contactBlock: "ws${w}@bigco.test" }`,
      "    agents: [{ slug: a, name: A }, { slug: b, name: B, styleMemoryFrom: a }]");
  }
  return lines.join("\n");
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

describe("control-plane records on the real engine", () => {
  let h: ControlPlaneHarness;
  beforeAll(async () => { h = await createControlPlaneHarness("control-plane", modelOf(dev)); });
  afterAll(async () => { await h?.dispose(); });

  const memberships = () => h.query(`SELECT workspace_slug || ' ' || email || ' ' || role AS m FROM ${T}.memberships WHERE organization_slug = 'acme' ORDER BY 1`).then((r) => r.map((x) => x.m));
  const invitations = () => h.query(`SELECT workspace_slug || ' ' || email || ' ' || status AS i FROM ${T}.invitations WHERE organization_slug = 'acme' ORDER BY 1`).then((r) => r.map((x) => x.i));

  it("up writes the rows the SaaS reads, and keeps the password out of the state", async () => {
    expect((await h.stack.up()).summary.result).toBe("succeeded");
    expect(await h.query(`SELECT version, name FROM ${T}.schema_migrations`)).toEqual([{ version: 1, name: "tenancy records" }]);
    expect(await h.query(`SELECT slug, name, billing_mode, plan, membership_mode FROM ${T}.organizations`)).toEqual([
      { slug: "acme", name: "Acme Agency", billing_mode: "rollup", plan: "agency", membership_mode: "multi-workspace" },
    ]);
    expect(await h.query(`SELECT role, permissions FROM ${T}.roles ORDER BY role`)).toEqual([
      { role: "admin", permissions: ["workspaces.manage", "members.manage", "integrations.manage", "agents.manage", "billing.view"] },
      { role: "editor", permissions: ["agents.manage", "knowledge.manage"] },
      { role: "viewer", permissions: [] },
    ]);
    expect(await h.query(`SELECT email, name, org_role FROM ${T}.people ORDER BY email`)).toEqual([
      { email: "ana@acme.test", name: "Ana Ruiz", org_role: "admin" },
      { email: "ben@acme.test", name: "Ben Okafor", org_role: null },
      { email: "chloe@acme.test", name: "Chloé Martin", org_role: null },
      { email: "dev@partner.test", name: "Dev Patel", org_role: null },
    ]);
    expect(await h.query(`SELECT workspace_slug, plan, credit_pool_owner, monthly_allowance FROM ${T}.workspace_billing ORDER BY 1`)).toEqual(
      ["emea-support", "internal", "us-sales"].map((w) => ({ workspace_slug: w, plan: "agency", credit_pool_owner: "organization", monthly_allowance: "100000" })),
    );
    expect(await h.query(`SELECT workspace_slug, slug, provider, credentials_secret_name FROM ${T}.integrations ORDER BY 1, 2`)).toEqual([
      { workspace_slug: "emea-support", slug: "slack", provider: "slack", credentials_secret_name: "emeaSlackToken" },
      { workspace_slug: "us-sales", slug: "drive", provider: "google-drive", credentials_secret_name: "usDriveOauth" },
      { workspace_slug: "us-sales", slug: "hubspot", provider: "hubspot", credentials_secret_name: "usHubspotOauth" },
    ]);
    expect(await h.query(`SELECT workspace_slug, slug, style_memory_from FROM ${T}.agents ORDER BY 1, 2`)).toEqual([
      { workspace_slug: "emea-support", slug: "aurora-coffee", style_memory_from: null },
      { workspace_slug: "emea-support", slug: "aurora-coffee-social", style_memory_from: "aurora-coffee" },
      { workspace_slug: "us-sales", slug: "northwind", style_memory_from: null },
    ]);
    expect(await h.query(`SELECT workspace_slug, accent_colour FROM ${T}.export_profiles ORDER BY 1`)).toEqual([
      { workspace_slug: "emea-support", accent_colour: "#0A84FF" }, { workspace_slug: "us-sales", accent_colour: "#FF9F0A" },
    ]);
    expect(await memberships()).toEqual([
      "emea-support ana@acme.test admin", "emea-support ben@acme.test editor", "emea-support dev@partner.test viewer",
      "internal ana@acme.test admin", "internal chloe@acme.test viewer", "us-sales ben@acme.test admin", "us-sales chloe@acme.test editor",
    ]);
    // Nobody is an active user yet, so every member has exactly one pending invitation.
    expect(await invitations()).toEqual((await memberships()).map((m) => `${m.split(" ").slice(0, 2).join(" ")} pending`));
    const state = await h.storedState();
    expect(state).toMatch(/"ciphertext"/);
    expect(state.includes(h.server.password)).toBe(false);
  });

  it("changes nothing on a second up, nor when every list is reordered", async () => {
    const again = await h.stack.up();
    expect(again.summary.resourceChanges).toEqual({ same: 7 });
    h.model = reordered(h.model);
    expect((await h.preview()).steps).toEqual([]);
  });

  it("previews a role change as exactly that person's change, then applies it", async () => {
    h.model = modelOf(devPromotes);
    const { steps, diff } = await h.preview();
    expect(steps.map((s) => `${s.op} ${s.name}`)).toEqual(["update acme-emea-support-record"]);
    const [step] = steps;
    expect(memberChanges(step!.oldInputs!.members as Record<string, string>, step!.newInputs!.members as Record<string, string>))
      .toEqual([{ email: "dev@partner.test", kind: "update", from: "viewer", to: "admin" }]);
    // What `pulumi preview --diff` prints: one changed line, naming the person and both roles.
    const changed = diff.split("\n").filter((l) => /^\s*[~+-] .*@/.test(l));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/~ dev@partner\.test\s*: "viewer" => "admin"/);
    await h.stack.up();
    expect(await memberships()).toContain("emea-support dev@partner.test admin");
  });

  it("invites a new member once, never an active user, and never rewrites a status", async () => {
    // What the SaaS does: Ana signs up and accepts, Ben's invitation expires.
    await h.query(`INSERT INTO ${T}.users (email) VALUES ('ana@acme.test')`);
    await h.query(`UPDATE ${T}.invitations SET status = 'accepted' WHERE email = 'ana@acme.test' AND workspace_slug = 'emea-support'`);
    await h.query(`UPDATE ${T}.invitations SET status = 'expired' WHERE email = 'ben@acme.test' AND workspace_slug = 'emea-support'`);
    h.model = modelOf(withNewcomers);
    expect((await h.preview()).steps.map((s) => `${s.op} ${s.name}`)).toEqual(["update acme-emea-support-record", "update acme-us-sales-record"]);
    const before = await invitations();
    await h.stack.up();
    expect(await invitations()).toEqual([...before, "emea-support chloe@acme.test pending"].sort());
    expect(await invitations()).toContain("emea-support ana@acme.test accepted");
    expect(await invitations()).toContain("emea-support ben@acme.test expired");
    expect(await memberships()).toContain("us-sales ana@acme.test viewer");
  });

  it("adopts the half-written rows of an interrupted apply when run again", async () => {
    // The engine died after writing us-sales' rows but before recording them; some never landed.
    const deployment = await h.stack.exportStack();
    const lost = (urn: string) => /acme-us-sales-record$/.test(urn);
    deployment.deployment.resources = deployment.deployment.resources.filter((r: { urn: string }) => !lost(r.urn));
    await h.stack.importStack(deployment);
    await h.query(`DELETE FROM ${T}.export_profiles WHERE workspace_slug = 'us-sales'`);
    await h.query(`DELETE FROM ${T}.memberships WHERE workspace_slug = 'us-sales' AND email = 'chloe@acme.test'`);
    await h.query(`UPDATE ${T}.memberships SET role = 'viewer' WHERE workspace_slug = 'us-sales' AND email = 'ben@acme.test'`);
    const before = await invitations();

    expect((await h.preview()).steps.map((s) => `${s.op} ${s.name}`)).toEqual(["create acme-us-sales-record"]);
    expect((await h.stack.up()).summary.resourceChanges).toMatchObject({ create: 1 });
    expect(await h.query(`SELECT letterhead FROM ${T}.export_profiles WHERE workspace_slug = 'us-sales'`)).toEqual([{ letterhead: "Acme US" }]);
    expect((await memberships()).filter((m) => m.startsWith("us-sales"))).toEqual([
      "us-sales ana@acme.test viewer", "us-sales ben@acme.test admin", "us-sales chloe@acme.test editor",
    ]);
    expect(await invitations()).toEqual(before);
    expect((await h.preview()).steps).toEqual([]);
  });

  it("refresh reads the rows back: no drift, and drift made outside shows on its record", async () => {
    expect((await h.stack.refresh()).summary.resourceChanges).toEqual({ same: 7 });
    expect((await h.preview()).steps).toEqual([]);

    await h.query(`UPDATE ${T}.memberships SET role = 'viewer' WHERE workspace_slug = 'internal' AND email = 'ana@acme.test'`);
    await h.query(`UPDATE ${T}.organizations SET name = 'Renamed in the SaaS' WHERE slug = 'acme'`);
    expect((await h.stack.refresh()).summary.resourceChanges).toEqual({ same: 5, update: 2 });
    expect((await h.preview()).steps.map((s) => `${s.op} ${s.name}`)).toEqual(["update acme-internal-record", "update acme-record"]);
    await h.stack.up();
    expect(await memberships()).toContain("internal ana@acme.test admin");
    expect(await h.query(`SELECT name FROM ${T}.organizations`)).toEqual([{ name: "Acme Agency" }]);
  });

  it("refuses to delete the organization while a workspace row of it remains, deleting nothing of it", async () => {
    // A workspace created in the SaaS itself, unknown to this stack.
    await h.query(`INSERT INTO ${T}.workspaces (organization_slug, slug, name) VALUES ('acme', 'sandbox', 'Sandbox')`);
    const counts = () => h.query(`SELECT (SELECT count(*) FROM ${T}.organizations) AS orgs, (SELECT count(*) FROM ${T}.people) AS people,
      (SELECT count(*) FROM ${T}.roles) AS roles, (SELECT count(*) FROM ${T}.organization_credit_pools) AS pools`);
    const before = await counts();
    await expect(h.stack.destroy()).rejects.toThrow(/refusing to delete organization "acme": 1 workspace of it still recorded in tenancy_control\.workspaces \("sandbox"\).*Nothing was deleted/);
    expect(await counts()).toEqual(before);
    expect(await h.query(`SELECT slug FROM ${T}.workspaces`)).toEqual([{ slug: "sandbox" }]);

    await h.query(`DELETE FROM ${T}.workspaces WHERE slug = 'sandbox'`);
    await h.stack.destroy();
    expect(await counts()).toEqual([{ orgs: "0", people: "0", roles: "0", pools: "0" }]);
    // The schema is shared (other organizations, the SaaS's users): destroy leaves it.
    expect(await h.query(`SELECT count(*) AS n FROM ${T}.users`)).toEqual([{ n: "1" }]);
  });

  it("[slow] applies 100 workspaces x 10 members, and previews them unchanged", async () => {
    h.model = modelOf(largeDeclaration(100, 10));
    let t = performance.now();
    const up = await h.stack.up();
    const upSeconds = seconds(t);
    t = performance.now();
    const { steps } = await h.preview();
    const previewSeconds = seconds(t);
    t = performance.now();
    const again = await h.stack.up();
    const noopSeconds = seconds(t);
    expect(up.summary.resourceChanges).toEqual({ create: 104 });
    expect(steps).toEqual([]);
    expect(again.summary.resourceChanges).toEqual({ same: 104 });
    expect(await h.query(`SELECT count(*) AS n FROM ${T}.memberships WHERE organization_slug = 'bigco'`)).toEqual([{ n: "1000" }]);
    // The schema survived the destroy above; creating its resource again applied nothing twice.
    expect(await h.query(`SELECT version FROM ${T}.schema_migrations`)).toEqual([{ version: 1 }]);
    console.info(`control-plane 100x10: 104 resources; up ${upSeconds} s, preview ${previewSeconds} s, unchanged up ${noopSeconds} s`);
  }, 10 * 60_000);
});
