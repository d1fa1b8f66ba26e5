// The pipeline scripts end to end on a throwaway git repository holding the project and two
// stacks, with the real engine and an embedded PostgreSQL: a branch changing one stack yields
// the expected pull-request comment (plan + policy-pack preview of that stack only); after the
// merge, scripts/ci/apply.sh applies only that stack; running it again changes nothing.
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePostgres, DEMO_PASSPHRASE, ensureDemoSecrets, openStack } from "../../cli/engine.ts";
import { freePort } from "../../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { loadDeclaration } from "../../config/load.ts";
import { root } from "./harness.ts";

const run = promisify(execFile);
const declaration = (org: string) => `version: 1
organization:
  slug: ${org}
  name: ${org} Co
  billing: { mode: rollup, plan: agency, creditPool: { monthlyAllowance: 1000 } }
  roles: { admin: [workspaces.manage, members.manage], editor: [agents.manage] }
  people:
    - { email: ana@${org}.test, orgRole: admin }
    - { email: ben@${org}.test }
workspaces:
  - slug: main
    name: Main
    members:
      - { email: ana@${org}.test, role: admin }
      - { email: ben@${org}.test, role: editor }
`;

describe("scripts/ci on a throwaway repository", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tenancy-pipeline-"));
  const repo = join(tmp, "repo");
  const backendUrl = `file://${join(tmp, "state")}`;
  let port: number;
  let server: LocalPostgres;
  let db: pg.Client;
  let mainBefore: string;
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=ci", "-c", "user.email=ci@test.test", ...args], { cwd: repo, encoding: "utf8" }).trim();
  const env = () => ({ ...process.env, PULUMI_BACKEND_URL: backendUrl, PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE, TENANCY_CI_DIR: join(tmp, "ci") });
  const script = (name: string, extra: Record<string, string>) =>
    run("bash", [join(repo, "scripts/ci", name)], { cwd: repo, env: { ...env(), ...extra }, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
  const memberships = async (org: string) =>
    (await db.query<{ m: string }>("SELECT workspace_slug || ' ' || email || ' ' || role AS m FROM tenancy_control.memberships WHERE organization_slug = $1 ORDER BY 1", [org])).rows.map((r) => r.m);
  const updates = async (stack: string) => (await (await openStack({ root: repo, stack, backendUrl })).stack.history()).filter((u) => u.kind === "update").length;

  beforeAll(async () => {
    // The project as it is in this work tree, without its stacks and tests; node_modules shared.
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
      .split("\n").filter((f) => f && !/^(stacks|test|bench)\//.test(f));
    for (const f of files) {
      mkdirSync(dirname(join(repo, f)), { recursive: true });
      cpSync(join(root, f), join(repo, f));
    }
    symlinkSync(join(root, "node_modules"), join(repo, "node_modules"));
    // What `npm ci` builds there (prepare): the compiled CLI.
    symlinkSync(join(root, "dist"), join(repo, "dist"));
    for (const stack of ["alpha", "beta"]) {
      mkdirSync(join(repo, "stacks", stack), { recursive: true });
      writeFileSync(join(repo, "stacks", stack, "tenancy.yaml"), declaration(stack));
    }
    chmodSync(tmp, 0o755);
    port = await freePort();
    server = await ensureAdminRole(tmp, await ensureLocalPostgres({ root: tmp, port }));
    db = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
    await db.connect();
    // Both stacks exist and are applied before the change; their config (secrets encrypted) is committed.
    mkdirSync(join(tmp, "state"));
    for (const name of ["alpha", "beta"]) {
      const { stack } = await openStack({ root: repo, stack: name, backendUrl });
      await configurePostgres(stack, server);
      const loaded = loadDeclaration(declaration(name), "x");
      if (!loaded.ok || !loaded.model) throw new Error("declaration must load");
      await ensureDemoSecrets(stack, loaded.model);
      expect((await stack.up()).summary.result).toBe("succeeded");
    }
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "two stacks");
    mainBefore = git("rev-parse", "HEAD");
    git("checkout", "-q", "-b", "promote-ben");
    const alpha = join(repo, "stacks/alpha/tenancy.yaml");
    writeFileSync(alpha, readFileSync(alpha, "utf8").replace("{ email: ben@alpha.test, role: editor }", "{ email: ben@alpha.test, role: admin }"));
    git("commit", "-q", "-am", "Promote Ben in alpha");
  });

  afterAll(async () => {
    await db?.end();
    if (port) await stopLocalPostgres({ root: tmp, port });
    rmSync(tmp, { recursive: true, force: true });
  });

  it("plan.sh: one comment body with the plan and the policy-pack preview of the changed stack only", { timeout: 10 * 60_000 }, async () => {
    const comment = join(tmp, "comment.md");
    const result = await script("plan.sh", { BASE_REF: "main", TENANCY_COMMENT_DRY_RUN: comment });
    expect(result.code, result.stderr).toBe(0);
    const body = readFileSync(comment, "utf8");
    const plan = execFileSync(process.execPath, [join(repo, "dist/cli/tenancy.js"), "plan", "--base-ref", "main", "--format", "markdown", "--max-chars", "48000"], { cwd: repo, encoding: "utf8" });
    expect(plan).toContain("- **admin**: ben&#64;alpha.test becomes admin of Main (main)"); // components/escape.ts: no mailto autolink
    expect(plan).toContain("### <code>beta</code>: unchanged");
    const head = [
      "<!-- tenancy-plan-comment -->",
      plan.trimEnd(),
      "",
      "### Checks",
      "",
      "- `tenancy validate`: passed",
      "- `tenancy plan`: passed",
      "- `pulumi preview --policy-pack policies` (alpha): passed",
      "",
      "<details><summary>pulumi preview --policy-pack policies: <code>alpha</code> (passed)</summary>",
      "",
      "```text",
    ].join("\n");
    expect(body.startsWith(head)).toBe(true);
    const preview = body.slice(head.length);
    expect(preview).toMatch(/Policies:/);
    expect(preview).toMatch(/Resources:/);
    expect(preview).toMatch(/\d+ to update/);
    expect(body).not.toContain("pulumi preview --policy-pack policies: <code>beta</code>"); // beta did not change: no preview
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).not.toContain(server.password);
    // Nothing was applied by the pull-request step.
    expect(await memberships("alpha")).toEqual(["main ana@alpha.test admin", "main ben@alpha.test editor"]);
  });

  it("apply.sh after the merge applies only the changed stack, and a second run changes nothing", { timeout: 20 * 60_000 }, async () => {
    git("checkout", "-q", "main");
    git("merge", "-q", "--no-ff", "-m", "Merge promote-ben", "promote-ben");
    const [alphaBefore, betaBefore] = [await updates("alpha"), await updates("beta")];

    const first = await script("apply.sh", { BEFORE: mainBefore });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied alpha: .* \(held to the reviewed update plan\)$/m);
    expect(first.stdout).not.toContain("beta");
    expect(await memberships("alpha")).toEqual(["main ana@alpha.test admin", "main ben@alpha.test admin"]);
    expect(await memberships("beta")).toEqual(["main ana@beta.test admin", "main ben@beta.test editor"]);
    expect([await updates("alpha"), await updates("beta")]).toEqual([alphaBefore + 1, betaBefore]);

    const second = await script("apply.sh", { BEFORE: mainBefore });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^applied alpha: \d+ same \(held to the reviewed update plan\)$/m);
    expect(await memberships("alpha")).toEqual(["main ana@alpha.test admin", "main ben@alpha.test admin"]);

    const nothing = await script("apply.sh", { BEFORE: git("rev-parse", "HEAD") });
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain("no stack changed; nothing to apply");
  });
});
