// The policy pack on the real engine: the clean stacks pass; a stack that breaks a rule, or that
// adds a hand-written grant across workspaces, fails `preview --policy-pack` naming the policy
// and the resource, and `pulumi up --policy-pack` changes nothing in the database.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePostgres, ensureDemoSecrets, openStack } from "../../cli/engine.ts";
import { loadDeclaration } from "../../config/load.ts";
import { createHarness, root, type Harness } from "./harness.ts";

const pack = join(root, "policies");
const fixtureDir = join(root, "test/e2e/fixtures/policy-pack");
const dev = readFileSync(`${root}/stacks/dev/tenancy.yaml`, "utf8");
const agency = readFileSync(`${root}/stacks/agency/tenancy.yaml`, "utf8");
const run = promisify(execFile);

/** What exists of the tenancy in the database: workspace schemas and roles. */
async function tenancyObjects(h: Harness): Promise<string[]> {
  const schemas = await h.query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'acme\\_\\_%'");
  const roles = await h.query<{ name: string }>("SELECT rolname AS name FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%'");
  return [...schemas, ...roles].map((r) => r.name).sort();
}

/** The fixture program as a stack on the harness's server and backend. */
async function fixtureStack(h: Harness, name: string, config: Record<string, string>): Promise<Stack> {
  const { stack } = await openStack({ root: fixtureDir, stack: name, backendUrl: `file://${dirname(h.declaration)}` });
  await configurePostgres(stack, h.server);
  await stack.setConfig("tenancy:declaration", { value: h.declaration });
  const loaded = loadDeclaration(dev, h.declaration);
  if (!loaded.ok || !loaded.model) throw new Error("dev must load");
  await ensureDemoSecrets(stack, loaded.model);
  for (const [key, value] of Object.entries(config)) await stack.setConfig(key, { value });
  return stack;
}

/** `pulumi up --yes --policy-pack policies` as a person runs it (preview first, then update). */
async function cliUp(stack: Stack): Promise<{ ok: boolean; output: string }> {
  const env = { ...process.env, ...stack.workspace.envVars };
  try {
    const { stdout, stderr } = await run("pulumi", ["up", "--yes", "--non-interactive", "--stack", stack.name, "--policy-pack", pack], { cwd: fixtureDir, env, maxBuffer: 64 << 20 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

const failure = (promise: Promise<unknown>) => promise.then(() => "succeeded", (error: Error) => error.message);

describe("the policy pack on the real engine", () => {
  let h: Harness;
  const stacks: Stack[] = [];
  beforeAll(async () => { h = await createHarness("policy", dev); });
  afterAll(async () => {
    for (const s of stacks) await s.workspace.removeStack(s.name, { force: true }).catch(() => {});
    await h?.dispose();
  });

  it("passes the clean dev stack in preview and up", async () => {
    const preview = await h.stack.preview({ policyPacks: [pack] });
    expect(preview.stdout).toMatch(/tenancy@v0\.1\.0/);
    expect(preview.stdout).not.toMatch(/mandatory|advisory/);
    const up = await h.stack.up({ policyPacks: [pack] });
    expect(up.summary.result).toBe("succeeded");
  });

  it("passes the clean agency stack in preview", async () => {
    const file = join(dirname(h.declaration), "agency.yaml");
    await writeFile(file, agency);
    const { stack } = await openStack({ root, stack: `e2e-policy-agency-${process.pid}`, backendUrl: `file://${dirname(h.declaration)}` });
    stacks.push(stack);
    await configurePostgres(stack, h.server);
    await stack.setConfig("tenancy:declaration", { value: file });
    const loaded = loadDeclaration(agency, file);
    if (!loaded.ok || !loaded.model) throw new Error("agency must load");
    await ensureDemoSecrets(stack, loaded.model);
    const preview = await stack.preview({ policyPacks: [pack] });
    expect(preview.stdout).toMatch(/tenancy@v0\.1\.0/);
    expect(preview.stdout).not.toMatch(/mandatory|advisory/);
  });
});

describe("the policy pack against a program that breaks the rules", () => {
  let h: Harness;
  const stacks: Stack[] = [];
  beforeAll(async () => { h = await createHarness("policy-broken", dev); });
  afterAll(async () => {
    for (const s of stacks) await s.workspace.removeStack(s.name, { force: true }).catch(() => {});
    await h?.dispose();
  });

  it("fails preview naming the rule id and the workspace, and up applies nothing", async () => {
    const stack = await fixtureStack(h, `e2e-policy-noadmin-${process.pid}`, { "fixture:break": "no-admin" });
    stacks.push(stack);
    const preview = await failure(stack.preview({ policyPacks: [pack] }));
    expect(preview).toMatch(/\[mandatory\].*workspace-has-admin\s+\(tenancy:index:Workspace: acme-internal\)/);
    // The pack's config turns the policy advisory: the preview then passes, still naming it.
    const config = join(dirname(h.declaration), "policy-config.json");
    await writeFile(config, JSON.stringify({ "workspace-has-admin": "advisory", "deployment-modes": { billingMode: "rollup" } }));
    const advisory = await stack.preview({ policyPacks: [pack], policyPackConfigs: [config] });
    expect(advisory.stdout).toMatch(/\[advisory\].*workspace-has-admin\s+\(tenancy:index:Workspace: acme-internal\)/);
    const up = await cliUp(stack);
    expect(up.ok).toBe(false);
    expect(await tenancyObjects(h)).toEqual([]);
  });

  it("fails preview naming grant-within-workspace and the hand-written grant, and up applies nothing", async () => {
    const stack = await fixtureStack(h, `e2e-policy-grant-${process.pid}`, { "fixture:crossGrant": "true" });
    stacks.push(stack);
    const preview = await failure(stack.preview({ policyPacks: [pack] }));
    expect(preview).toMatch(/\[mandatory\].*grant-within-workspace\s+\(tenancy:postgres:Grant: cross-workspace-grant\)/);
    const up = await cliUp(stack);
    expect(up.ok).toBe(false);
    expect(await tenancyObjects(h)).toEqual([]);
  });

  // The Automation API's up passes --skip-preview: resource policies still run before each
  // resource is created, stack policies only after the update. The grant is refused whatever
  // else the engine got to first (the grant names plain role and schema names, so it no longer
  // waits for the boundaries): callers must preview with the pack first.
  it("with the Automation API's up (no preview), still refuses the grant", async () => {
    const stack = stacks[1]!;
    const up = await failure(stack.up({ policyPacks: [pack] }));
    expect(up).toMatch(/grant-within-workspace/);
    const crossing = await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace s, pg_roles r
      WHERE s.nspname = 'acme__emea_support' AND r.rolname = 'acme__internal__app' AND has_schema_privilege(r.oid, s.oid, 'USAGE')`);
    expect(crossing).toEqual([{ n: 0 }]);
  });
});
