// scripts/ci/plan.sh without the engine, on a throwaway git repository: which stacks changed,
// acknowledgements from commit trailers and labels, and the comment body (golden). The engine
// preview part runs in test/e2e/pipeline.test.ts.
import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);

// Each run starts node three times (validate, plan markdown, plan JSON): seconds, not milliseconds.
describe("scripts/ci/plan.sh (no engine)", { timeout: 180_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "tenancy-plan-sh-"));
  const repo = join(tmp, "repo");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=ci", "-c", "user.email=ci@test.test", ...args], { cwd: repo, encoding: "utf8" }).trim();
  const planSh = (env: Record<string, string>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_") && !k.startsWith("TENANCY_")));
    return run("bash", [join(repo, "scripts/ci/plan.sh")], { cwd: repo, env: { ...clean, BASE_REF: "main", TENANCY_CI_DIR: join(tmp, "ci"), TENANCY_COMMENT_DRY_RUN: join(tmp, "comment.md"), ...env } })
      .then(() => 0, (e: { code: number }) => e.code);
  };
  const comment = () => readFileSync(join(tmp, "comment.md"), "utf8");

  beforeAll(() => {
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
      .split("\n").filter((f) => f && !/^(test|bench)\//.test(f) && !/^stacks\/Pulumi\./.test(f));
    for (const f of files) {
      mkdirSync(dirname(join(repo, f)), { recursive: true });
      cpSync(join(root, f), join(repo, f));
    }
    symlinkSync(join(root, "node_modules"), join(repo, "node_modules"));
    // What `npm ci` builds there (prepare): the compiled CLI the scripts run. Ignored by git.
    symlinkSync(join(root, "dist"), join(repo, "dist"));
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "base");
    git("checkout", "-q", "-b", "drop-internal");
    const dev = join(repo, "stacks/dev/tenancy.yaml");
    writeFileSync(dev, readFileSync(dev, "utf8").replace(/  - slug: internal[\s\S]*$/, ""));
    git("commit", "-q", "-am", "Drop the internal workspace");
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("lists only the stack whose declaration changed", () => {
    expect(execFileSync("bash", [join(repo, "scripts/ci/changed-stacks.sh"), "--json", "main"], { cwd: repo, encoding: "utf8" })).toBe('["dev"]\n');
  });

  it("fails on an unacknowledged guard, and the comment says why", async () => {
    expect(await planSh({ TENANCY_PREVIEW: "0" })).toBe(1);
    expect(comment()).toContain("- **error** <code>workspace-delete-guarded</code> main:stacks/dev/tenancy.yaml:45:");
    expect(comment()).toContain("- `tenancy plan`: violations (exit 1)");
  });

  it("passes once a pull-request label acknowledges the guard (other labels ignored)", async () => {
    expect(await planSh({ TENANCY_PREVIEW: "0", TENANCY_LABELS: "bug acknowledge:workspace-delete-guarded needs-review" })).toBe(0);
    expect(comment()).toContain("- **acknowledged** <code>workspace-delete-guarded</code>");
  });

  it("passes once a commit trailer acknowledges it; the comment is golden", async () => {
    git("commit", "-q", "--allow-empty", "-m", "Internal is empty and archived\n\nTenancy-Acknowledge: workspace-delete-guarded");
    expect(await planSh({ TENANCY_PREVIEW: "0" })).toBe(0);
    await expect(comment()).toMatchFileSnapshot("__snapshots__/plan-comment.md");
  });

  it("says the preview was skipped, and fails, when there is no state backend (a fork's pull request)", async () => {
    expect(await planSh({})).toBe(2);
    expect(comment()).toContain("- `pulumi preview --policy-pack policies` (dev): skipped: no state backend for this run");
    expect(comment()).toContain("PULUMI_BACKEND_URL is not set");
  });
});
