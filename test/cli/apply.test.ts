// The plan file and apply's refusals, which all happen before the engine starts (the e2e tier,
// test/e2e/plan-apply.test.ts, covers the applies themselves).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { apply } from "../../cli/apply.ts";
import { ExitError } from "../../cli/errors.ts";
import { plan } from "../../cli/plan.ts";

const root = join(import.meta.dirname, "../..");
const dev = readFileSync(join(root, "stacks/dev/tenancy.yaml"), "utf8");
const project = mkdtempSync(join(tmpdir(), "tenancy-apply-"));
mkdirSync(join(project, "stacks/dev"), { recursive: true });
afterAll(() => rmSync(project, { recursive: true, force: true }));

const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a refusal"); }, (e: unknown) => {
  if (!(e instanceof ExitError)) throw e;
  return { code: e.exitCode, message: e.message };
});

describe("tenancy plan --out", { timeout: 120_000 }, () => {
  it("records both digests and the stack config, in a file only its owner can read", async () => {
    writeFileSync(join(project, "base.yaml"), dev);
    writeFileSync(join(project, "stacks/dev/tenancy.yaml"), dev.replace("{ email: chloe@acme.test, role: editor }", "{ email: chloe@acme.test, role: admin }"));
    writeFileSync(join(project, "stacks/Pulumi.dev.yaml"), "config:\n  postgres:host: db.internal\n");
    await plan({ base: "base.yaml", head: "stacks/dev", out: "plan.json" }, project);
    const file = JSON.parse(readFileSync(join(project, "plan.json"), "utf8"));
    expect(file).toMatchObject({
      version: 2,
      acknowledgements: [],
      commits: { head: null, base: null },
      code: null,
      engine: null,
      stacks: [{
        stack: "dev",
        base: { source: "base.yaml", commit: null, path: "base.yaml" },
        declaration: { path: "stacks/dev/tenancy.yaml" },
        stackConfig: { path: "stacks/Pulumi.dev.yaml" },
      }],
    });
    expect(file.stacks[0].declaration.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(file.stacks[0].updatePlan).toBeUndefined();
    expect(file.toolkit).toMatch(/^tenancy-as-code@\d/);
    // Seven days unless --ttl says otherwise.
    expect(Date.parse(file.expiresAt) - Date.parse(file.createdAt)).toBe(7 * 24 * 3600_000);
    expect(statSync(join(project, "plan.json")).mode & 0o777).toBe(0o600);
  });

  it("needs the head in the work tree, and --out for --engine", async () => {
    expect(await refusal(plan({ base: "base.yaml", head: "HEAD:stacks/dev/tenancy.yaml", out: "x.json" }, root))).toMatchObject({ code: 2 });
    expect(await refusal(plan({ base: "base.yaml", head: "stacks/dev", engine: true }, project))).toMatchObject({ code: 2 });
  });

  it("treats a missing --base as a new stack", async () => {
    const run = await plan({ head: "stacks/dev" }, project);
    expect(run.report.stacks[0]).toMatchObject({ stack: "dev", status: "created", base: null });
  });
});

describe("tenancy apply --plan refuses before the engine starts", { timeout: 120_000 }, () => {
  it("when the declaration changed since planning, in one line naming it", async () => {
    await plan({ base: "base.yaml", head: "stacks/dev", out: "plan.json" }, project);
    const declaration = join(project, "stacks/dev/tenancy.yaml");
    const reviewed = readFileSync(declaration, "utf8");
    writeFileSync(declaration, reviewed.replace("name: Internal", "name: Internal (edited)"));
    const refused = await refusal(apply({ plan: "plan.json" }, project));
    writeFileSync(declaration, reviewed);
    expect(refused.code).toBe(1);
    expect(refused.message.split("\n")).toContainEqual(expect.stringMatching(/^refusing to apply stack dev: declaration stacks\/dev\/tenancy\.yaml changed since it was planned \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\); plan again and review; nothing was applied$/));
  });

  it("when the stack config changed or appeared since planning", async () => {
    await plan({ base: "base.yaml", head: "stacks/dev", out: "plan.json" }, project);
    writeFileSync(join(project, "stacks/Pulumi.dev.yaml"), "config:\n  postgres:host: elsewhere\n");
    expect((await refusal(apply({ plan: "plan.json" }, project))).message).toContain("stack config stacks/Pulumi.dev.yaml changed since it was planned");
    rmSync(join(project, "stacks/Pulumi.dev.yaml"));
    expect((await refusal(apply({ plan: "plan.json" }, project))).message).toContain("→ (none)");
  });

  it("when the plan failed, or the stack was removed", async () => {
    writeFileSync(join(project, "stacks/dev/tenancy.yaml"), dev.replace(/  - slug: internal[\s\S]*$/, ""));
    await plan({ base: "base.yaml", head: "stacks/dev", out: "bad.json" }, project);
    expect((await refusal(apply({ plan: "bad.json" }, project))).message).toContain(
      "refusing to apply stack dev: rules: its plan has 1 unacknowledged violation (first: workspace-delete-guarded at base.yaml:",
    );
    // An organization without workspaces may leave, but a stack is torn down by hand.
    writeFileSync(join(project, "empty.yaml"), readFileSync(join(root, "test/fixtures/rules/organization-delete-blocked.silent.base.yaml"), "utf8"));
    await plan({ base: "empty.yaml", head: "stacks/gone", stack: "dev", out: "removed.json" }, project);
    expect((await refusal(apply({ plan: "removed.json" }, project))).message).toContain(
      "refusing to apply stack dev: it was removed from the declarations; tear a stack down by hand (decommission its workspaces, then pulumi destroy); nothing was applied",
    );
  });

  it("when the plan file is not one", async () => {
    writeFileSync(join(project, "junk.json"), "{}");
    expect(await refusal(apply({ plan: "junk.json" }, project))).toMatchObject({ code: 2 });
    expect(await refusal(apply({ plan: "nope.json" }, project))).toMatchObject({ code: 2 });
  });
});
