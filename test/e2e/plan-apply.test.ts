// Reviewed == applied, on the real engine and a real PostgreSQL: a plan file pins the reviewed
// declaration and stack config by digest (and holds the Pulumi update plan); changing either
// after planning makes `tenancy apply --plan` refuse, and nothing in the database changes.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apply } from "../../cli/apply.ts";
import { ExitError } from "../../cli/errors.ts";
import { plan } from "../../cli/plan.ts";
import { DEMO_PASSPHRASE } from "../../cli/engine.ts";
import { createHarness, root, type Harness } from "./harness.ts";

const v0 = `version: 1
organization:
  slug: reviewed
  name: Reviewed Co
  billing: { mode: rollup, plan: agency, creditPool: { monthlyAllowance: 1000 } }
  roles: { admin: [workspaces.manage, members.manage], editor: [agents.manage] }
  people:
    - { email: ana@reviewed.test, orgRole: admin }
    - { email: ben@reviewed.test }
workspaces:
  - slug: alpha
    name: Alpha
    members:
      - { email: ana@reviewed.test, role: admin }
      - { email: ben@reviewed.test, role: editor }
`;
const reviewed = v0.replace("{ email: ben@reviewed.test, role: editor }", "{ email: ben@reviewed.test, role: admin }");
const tampered = reviewed.replace("    name: Alpha\n", "    name: Alpha (renamed after review)\n");

// Each step runs the engine (preview, up) on a 2-core machine shared with other work: minutes.
describe("tenancy plan --out / tenancy apply --plan on the real engine", { timeout: 15 * 60_000 }, () => {
  let h: Harness;
  let dir: string;
  let backendUrl: string;
  beforeAll(async () => {
    h = await createHarness("plan-apply", v0);
    expect((await h.stack.up()).summary.result).toBe("succeeded");
    dir = await mkdtemp(join(tmpdir(), "tenancy-plan-apply-"));
    await writeFile(join(dir, "base.yaml"), v0);
    backendUrl = `file://${dirname(h.declaration)}`; // the harness keeps its state beside the declaration
  });
  afterAll(async () => {
    await h?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const memberships = async () =>
    (await h.query<{ m: string }>("SELECT workspace_slug || ' ' || email || ' ' || role AS m FROM tenancy_control.memberships WHERE organization_slug = 'reviewed' ORDER BY 1")).map((r) => r.m);
  const workspaceNames = async () =>
    (await h.query<{ n: string }>("SELECT name AS n FROM tenancy_control.workspaces WHERE organization_slug = 'reviewed' ORDER BY 1")).map((r) => r.n);
  const makePlan = (out: string) =>
    plan({ base: join(dir, "base.yaml"), head: h.declaration, stack: h.stack.name, out, engine: true, backendUrl }, root);

  it("saves digests and the Pulumi update plan, with no secret in plaintext", async () => {
    await h.writeDeclaration(reviewed);
    const run = await makePlan(join(dir, "plan.json"));
    expect(run.report.ok).toBe(true);
    expect(run.report.stacks[0]!.risks.map((r) => r.summary)).toEqual(["ben@reviewed.test becomes admin of Alpha (alpha)"]);
    const text = await readFile(join(dir, "plan.json"), "utf8");
    const file = JSON.parse(text);
    expect(file.stacks[0]).toMatchObject({ stack: h.stack.name, ok: true, stackConfig: { path: `stacks/Pulumi.${h.stack.name}.yaml` } });
    expect(file.stacks[0].declaration.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(file.stacks[0].stackConfig.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(file.stacks[0].updatePlan).toBeTypeOf("object");
    expect(text).not.toContain(h.server.password);
    expect(text).not.toContain(DEMO_PASSPHRASE);
  });

  it("refuses to apply when the declaration changed after planning, and changes nothing", async () => {
    const before = { memberships: await memberships(), names: await workspaceNames() };
    expect(before.memberships).toEqual(["alpha ana@reviewed.test admin", "alpha ben@reviewed.test editor"]);
    await h.writeDeclaration(tampered);
    const refused = await apply({ plan: join(dir, "plan.json"), backendUrl }, root).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ExitError);
    expect((refused as ExitError).exitCode).toBe(1);
    expect((refused as ExitError).message).toMatch(
      new RegExp(`^refusing to apply stack ${h.stack.name}: declaration .*tenancy\\.yaml changed since it was planned \\(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\\); plan again and review; nothing was applied$`),
    );
    expect({ memberships: await memberships(), names: await workspaceNames() }).toEqual(before);
  });

  it("refuses to apply when the stack config changed after planning", async () => {
    await h.writeDeclaration(reviewed);
    await makePlan(join(dir, "plan2.json"));
    await h.stack.setConfig("tenancy:note", { value: "changed after review" });
    const refused = await apply({ plan: join(dir, "plan2.json"), backendUrl }, root).then(() => undefined, (e: unknown) => e);
    await h.stack.removeConfig("tenancy:note");
    expect((refused as ExitError).message).toContain(`stack config stacks/Pulumi.${h.stack.name}.yaml changed since it was planned`);
    expect(await memberships()).toEqual(["alpha ana@reviewed.test admin", "alpha ben@reviewed.test editor"]);
  });

  it("applies the reviewed plan when nothing changed, held to the update plan; a second plan shows no change", async () => {
    await h.writeDeclaration(reviewed);
    await makePlan(join(dir, "plan3.json"));
    const applied = await apply({ plan: join(dir, "plan3.json"), backendUrl }, root);
    expect(applied).toMatchObject([{ stack: h.stack.name, heldToUpdatePlan: true }]);
    expect(await memberships()).toEqual(["alpha ana@reviewed.test admin", "alpha ben@reviewed.test admin"]);
    expect(await h.plannedChanges()).toEqual([]);
  });
});
