// The pipeline loop end to end on a throwaway git repository, with the real engine and an
// embedded PostgreSQL, run the way the workflows run it: the trusted plan job (scripts/ci/plan.sh
// from a checkout of main, the pull request's head read as data) saves the engine plan of the
// changed stack, which has integrations; the comment goes to a mock GitHub API; the pull request
// is merged (squash with co-author lines, then a merge commit); scripts/ci/apply.sh applies the
// reviewed artifact, or refuses one for another head or one that main moved under; afterwards
// the engine sees zero changes. An apply that finds its stack locked waits for the lock.
import { execFile, execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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
    integrations:
      - { slug: slack, provider: slack, credentialsSecret: ${org}SlackToken }
`;

describe("the pipeline loop on a throwaway repository", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tenancy-pipeline-"));
  const repo = join(tmp, "repo");
  const state = join(tmp, "state");
  const backendUrl = `file://${state}`;
  let port: number;
  let server: LocalPostgres;
  let db: pg.Client;
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=ci", "-c", "user.email=ci@test.test", ...args], { cwd: repo, encoding: "utf8" }).trim();
  const secrets = () => ({ PULUMI_BACKEND_URL: backendUrl, PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE });
  const script = (name: string, env: Record<string, string>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PULUMI_|TENANCY_|GITHUB_)/.test(k)));
    return run("bash", [join(repo, "scripts/ci", name)], { cwd: repo, env: { ...clean, ...secrets(), ...env }, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
  };
  const memberships = async (org: string) =>
    (await db.query<{ m: string }>("SELECT workspace_slug || ' ' || email || ' ' || role AS m FROM tenancy_control.memberships WHERE organization_slug = $1 ORDER BY 1", [org])).rows.map((r) => r.m);
  const stackOf = async (name: string) => (await openStack({ root: repo, stack: name, backendUrl, mustExist: true })).stack;
  const updates = async (name: string) => (await (await stackOf(name)).history()).filter((u) => u.kind === "update").length;
  /** What the engine would still do: operations other than `same`. */
  const pending = async (name: string) => {
    const preview = await (await stackOf(name)).preview({ color: "never" });
    return Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
  };
  const alpha = () => join(repo, "stacks/alpha/tenancy.yaml");
  const edit = (from: string, to: string) => writeFileSync(alpha(), readFileSync(alpha(), "utf8").replace(from, to));

  /** The trusted plan job: a clean checkout of main, the head given as data. */
  const planPr = async (pr: number, head: string, labels = "") => {
    git("checkout", "-q", "-f", "main");
    git("clean", "-fdq", "stacks");
    const dir = join(tmp, `plan-${pr}-${head.slice(0, 8)}`);
    const result = await script("plan.sh", { BASE_REF: "main", HEAD_SHA: head, PR_NUMBER: String(pr), TENANCY_LABELS: labels, TENANCY_CI_DIR: dir, TENANCY_RUN_URL: `https://github.example/acme/infra/actions/runs/${pr}00` });
    git("checkout", "-q", "-f", "main");
    git("clean", "-fdq", "stacks");
    return { ...result, dir };
  };
  /** The apply job on the merged commit, with the reviewed artifact unpacked at `planDir`. */
  const applyMerge = (planDir: string, reviewedHead: string, before: string, extra: Record<string, string> = {}) =>
    script("apply.sh", { TENANCY_PLAN_DIR: planDir, REVIEWED_HEAD: reviewedHead, BEFORE: before, TENANCY_CI_DIR: join(tmp, "apply"), ...extra });

  beforeAll(async () => {
    // The project as it is in this work tree, without its stacks and tests; node_modules shared.
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
      .split("\n").filter((f) => f && existsSync(join(root, f)) && !/^(stacks|test|bench)\//.test(f));
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
    mkdirSync(state);
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
  });

  afterAll(async () => {
    await db?.end();
    if (port) await stopLocalPostgres({ root: tmp, port });
    rmSync(tmp, { recursive: true, force: true });
  });

  let pr1: { head: string; dir: string };

  it("PR 1 (promote Ben in alpha): the trusted plan saves alpha's engine plan; the comment shows commit, run and checks", { timeout: 10 * 60_000 }, async () => {
    git("checkout", "-q", "-b", "promote-ben", "main");
    edit("{ email: ben@alpha.test, role: editor }", "{ email: ben@alpha.test, role: admin }");
    git("commit", "-q", "-am", "Promote Ben in alpha");
    const head = git("rev-parse", "HEAD");
    const result = await planPr(1, head);
    expect(result.code, result.stderr + (existsSync(join(result.dir, "preview-alpha.txt")) ? readFileSync(join(result.dir, "preview-alpha.txt"), "utf8").slice(-3000) : "")).toBe(0);
    pr1 = { head, dir: result.dir };
    const plan = JSON.parse(readFileSync(join(result.dir, "plans/alpha.plan.json"), "utf8"));
    // The plan file (its format is the CLI's): alpha only, with its engine plan.
    expect(plan.stacks.map((s: { stack: string; updatePlan?: unknown }) => [s.stack, s.updatePlan !== undefined && s.updatePlan !== null])).toEqual([["alpha", true]]);
    expect(existsSync(join(result.dir, "plans/beta.plan.json"))).toBe(false);
    const meta = JSON.parse(readFileSync(join(result.dir, "meta.json"), "utf8"));
    expect(meta).toMatchObject({ pr: 1, headSha: head, engine: "ran", stacks: ["alpha"], codeChanged: [] });

    const body = readFileSync(join(result.dir, "comment.md"), "utf8");
    expect(body.startsWith(`<!-- tenancy-plan-comment -->\nPlanned at \`${head.slice(0, 12)}\``)).toBe(true);
    expect(body).toContain("[pipeline run](https://github.example/acme/infra/actions/runs/100)");
    expect(body).toContain("- **admin**: ben&#64;alpha.test becomes admin of Main (main)");
    expect(body).toContain("- engine plan, `pulumi preview --policy-pack policies` (alpha): passed");
    // beta did not change: listed as unchanged, and no engine plan of it.
    expect(body).toContain("### <code>beta</code>: unchanged");
    expect(body).not.toMatch(/engine plan[^\n]*\(beta\)/);
    expect(body).not.toContain(server.password);
    // The comment job: posted through the (mock) API as the bot; a user's look-alike untouched.
    const comments = [{ id: 1, user: { login: "mallory" }, body: "<!-- tenancy-plan-comment -->\nall good, merge it" }];
    const api = createServer(async (req, res) => {
      let raw = "";
      for await (const c of req) raw += c;
      res.setHeader("content-type", "application/json");
      if (req.method === "GET" && req.url!.startsWith("/user")) { res.statusCode = 403; return res.end("{}"); }
      if (req.method === "GET") return res.end(JSON.stringify(req.url!.includes("page=1") ? comments : []));
      if (req.method === "POST") { const c = { id: 2, user: { login: "github-actions[bot]" }, body: JSON.parse(raw).body }; comments.push(c); return res.end(JSON.stringify(c)); }
      res.statusCode = 404;
      res.end("{}");
    });
    await new Promise<void>((ok) => api.listen(0, "127.0.0.1", ok));
    try {
      const posted = await run(process.execPath, [join(repo, "scripts/ci/comment.mjs"), "post", "--body", join(result.dir, "comment.md")], {
        env: { ...process.env, GITHUB_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, GITHUB_REPOSITORY: "acme/infra", PR_NUMBER: "1", GITHUB_TOKEN: "t" },
      });
      expect(posted.stderr).toBe("comment created (id 2)\n");
      expect(comments.map((c) => c.body)).toEqual(["<!-- tenancy-plan-comment -->\nall good, merge it", body]);
    } finally {
      api.close();
    }
    // Nothing was applied by the pull-request step.
    expect(await memberships("alpha")).toEqual(["main ana@alpha.test admin", "main ben@alpha.test editor"]);
  });

  it("squash merge with co-author lines: an artifact for another head is refused; the reviewed one applies alpha only; zero changes after", { timeout: 20 * 60_000 }, async () => {
    git("checkout", "-q", "main");
    const before = git("rev-parse", "HEAD");
    git("merge", "-q", "--squash", "promote-ben");
    git("commit", "-q", "-m", "Promote Ben in alpha (#1)\n\nCo-authored-by: Rita <rita@test.test>\nCo-authored-by: Ben <ben@test.test>");
    const [alphaBefore, betaBefore] = [await updates("alpha"), await updates("beta")];

    const wrong = await applyMerge(pr1.dir, before, before);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`tenancy apply refused: the reviewed plan is for head \`${pr1.head.slice(0, 12)}\`, but the merged pull request's head is \`${before.slice(0, 12)}\``);
    expect(readFileSync(join(tmp, "apply/apply-comment.md"), "utf8")).toMatch(/^<!-- tenancy-apply-comment -->\n### tenancy apply refused/);
    expect(await updates("alpha")).toBe(alphaBefore);

    const applied = await applyMerge(pr1.dir, pr1.head, before);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^applied alpha: .* \(held to the reviewed update plan\)$/m);
    expect(applied.stdout).not.toContain("beta");
    expect(existsSync(join(tmp, "apply/apply-comment.md"))).toBe(false);
    expect(await memberships("alpha")).toEqual(["main ana@alpha.test admin", "main ben@alpha.test admin"]);
    expect(await memberships("beta")).toEqual(["main ana@beta.test admin", "main ben@beta.test editor"]);
    expect([await updates("alpha"), await updates("beta")]).toEqual([alphaBefore + 1, betaBefore]);
    expect(await pending("alpha")).toEqual([]);
  });

  it("PR 2 (a guard, acknowledged by label for its workspace), merge commit: main moved under it is refused; the reviewed plan applies after a clean merge, waiting for the stack's lock; zero changes after", { timeout: 20 * 60_000 }, async () => {
    git("checkout", "-q", "-b", "drop-ben", "main");
    edit("      - { email: ben@alpha.test, role: admin }\n", "");
    git("commit", "-q", "-am", "Ben leaves alpha's main workspace");
    const head = git("rev-parse", "HEAD");
    const unacknowledged = await planPr(2, head);
    expect(unacknowledged.code).toBe(1);
    expect(readFileSync(join(unacknowledged.dir, "comment.md"), "utf8")).toContain("- **error** <code>mass-removal-guarded</code>");
    expect(existsSync(join(unacknowledged.dir, "plans/alpha.plan.json"))).toBe(true);
    expect(JSON.parse(readFileSync(join(unacknowledged.dir, "plans/alpha.plan.json"), "utf8")).stacks[0].updatePlan ?? undefined).toBeUndefined();

    const reviewed = await planPr(2, head, "acknowledge:mass-removal-guarded:main");
    expect(reviewed.code, reviewed.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(join(reviewed.dir, "plans/alpha.plan.json"), "utf8"));
    expect(plan.stacks[0].stack).toBe("alpha");
    expect(plan.stacks[0].updatePlan).toBeTruthy();
    // Recorded in the plan file (v1: rule ids; with scoped acknowledgements: rule and workspace).
    expect(JSON.stringify(plan.acknowledgements ?? plan.acknowledged)).toContain("mass-removal-guarded");
    expect(JSON.parse(readFileSync(join(reviewed.dir, "meta.json"), "utf8")).acknowledgements).toEqual([{ ack: "mass-removal-guarded:main", via: "label", by: null }]);
    expect(readFileSync(join(reviewed.dir, "comment.md"), "utf8")).toContain("- `mass-removal-guarded:main` (label)");

    // main moves under the pull request (someone edits alpha directly), then it is merged.
    git("checkout", "-q", "main");
    const before = git("rev-parse", "HEAD");
    edit("  name: alpha Co\n", "  name: alpha Co\n  # edited on main after the plan\n");
    git("commit", "-q", "-am", "An edit to alpha on main");
    git("merge", "-q", "--no-ff", "-m", "Merge pull request #2 from drop-ben", "drop-ben");
    const moved = await applyMerge(reviewed.dir, head, before);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain("tenancy apply refused: the merged commit is not the tree that was reviewed");
    expect(moved.stderr).toContain("these differ: `stacks/alpha/tenancy.yaml`");
    expect(await memberships("alpha")).toEqual(["main ana@alpha.test admin", "main ben@alpha.test admin"]);

    // The merge as reviewed: main at `before`, a merge commit of the pull request.
    git("reset", "-q", "--hard", before);
    git("merge", "-q", "--no-ff", "-m", "Merge pull request #2 from drop-ben", "drop-ben");
    // Another apply holds alpha's lock (a lock file in the backend, as the engine writes it); it
    // ends once apply.sh has said it waits for it (or after two minutes, and the test fails).
    const locks = join(state, ".pulumi/locks/organization/tenancy/alpha");
    mkdirSync(locks, { recursive: true });
    const lock = join(locks, "other-apply.json");
    writeFileSync(lock, JSON.stringify({ pid: 1, username: "ci", hostname: "other-runner", timestamp: new Date().toISOString() }));
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PULUMI_|TENANCY_|GITHUB_)/.test(k)));
    const child = spawn("bash", [join(repo, "scripts/ci/apply.sh")], {
      cwd: repo,
      env: { ...clean, ...secrets(), TENANCY_PLAN_DIR: reviewed.dir, REVIEWED_HEAD: head, BEFORE: before, TENANCY_CI_DIR: join(tmp, "apply"), TENANCY_LOCK_POLL: "3", TENANCY_LOCK_WAIT: "300" },
    });
    const fallback = setTimeout(() => rmSync(lock, { force: true }), 120_000);
    const applied = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d));
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
        if (stderr.includes("is locked by another apply; waiting")) rmSync(lock, { force: true });
      });
      child.on("close", (code) => done({ code: code ?? -1, stdout, stderr }));
    });
    clearTimeout(fallback);
    rmSync(lock, { force: true });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(/stack alpha is locked by another apply; waiting 3s/);
    expect(applied.stdout).toMatch(/^applied alpha: .* \(held to the reviewed update plan\)$/m);
    expect(await memberships("alpha")).toEqual(["main ana@alpha.test admin"]);
    expect(await pending("alpha")).toEqual([]);
    expect(await pending("beta")).toEqual([]);
  });

  it("a push that changes no stack applies nothing", async () => {
    const nothing = await applyMerge(join(tmp, "no-such-artifact"), "", git("rev-parse", "HEAD"));
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain("no stack changed; nothing to apply");
  });
});
