// scripts/ci/plan.sh without the engine, on a throwaway git repository, run as the trusted plan
// job runs it: from a checkout of the base branch, the pull request's head given as HEAD_SHA and
// read as data. Which stacks changed, scoped acknowledgements from labels, the comment (golden),
// and a pull request that edits components/: no secret reaches any process plan.sh starts
// (every execve traced with strace, its environment searched for the planted values).
import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);

// Each run starts node several times (validate, plan markdown, plan JSON): seconds, not milliseconds.
describe("scripts/ci/plan.sh (no engine)", { timeout: 180_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "tenancy-plan-sh-"));
  const repo = join(tmp, "repo");
  const ci = join(tmp, "ci");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=ci", "-c", "user.email=ci@test.test", ...args], { cwd: repo, encoding: "utf8" }).trim();
  const clean = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_") && !k.startsWith("TENANCY_") && !k.startsWith("GITHUB_")));
  const planSh = (env: Record<string, string>, prefix: string[] = []) => {
    const [cmd, ...args] = [...prefix, "bash", join(repo, "scripts/ci/plan.sh")];
    return run(cmd!, args, { cwd: repo, env: { ...clean(), BASE_REF: "main", TENANCY_CI_DIR: ci, TENANCY_COMMENT_DRY_RUN: join(tmp, "comment.md"), ...env } })
      .then(() => 0, (e: { code: number }) => e.code);
  };
  const comment = () => readFileSync(join(tmp, "comment.md"), "utf8");
  const meta = () => JSON.parse(readFileSync(join(ci, "meta.json"), "utf8"));
  const sha: Record<string, string> = {};

  beforeAll(() => {
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
      .split("\n").filter((f) => f && existsSync(join(root, f)) && !/^(test|bench)\//.test(f) && !/^stacks\/Pulumi\./.test(f));
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
    const dev = join(repo, "stacks/dev/tenancy.yaml");
    const dropInternal = () => writeFileSync(dev, readFileSync(dev, "utf8").replace(/  - slug: internal[\s\S]*$/, ""));
    git("checkout", "-q", "-b", "drop-internal");
    dropInternal();
    git("commit", "-q", "-am", "Drop the internal workspace");
    sha.drop = git("rev-parse", "HEAD");
    git("commit", "-q", "--allow-empty", "-m", "Internal is empty and archived\n\nTenancy-Acknowledge: workspace-delete-guarded");
    sha.trailer = git("rev-parse", "HEAD");
    git("checkout", "-q", "-b", "code-and-stacks", "main");
    dropInternal();
    writeFileSync(join(repo, "components/index.ts"), readFileSync(join(repo, "components/index.ts"), "utf8") + "\n// a change to the program\n");
    git("commit", "-q", "-am", "Drop internal, and change the program");
    sha.code = git("rev-parse", "HEAD");
    git("checkout", "-q", "-b", "code-only", "main");
    writeFileSync(join(repo, "components/index.ts"), readFileSync(join(repo, "components/index.ts"), "utf8") + "\n// a change to the program\n");
    git("commit", "-q", "-am", "Change the program");
    sha.codeOnly = git("rev-parse", "HEAD");
    git("checkout", "-q", "main");
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  // Every run starts from a clean checkout of the base branch, as the trusted job does.
  beforeEach(() => {
    git("checkout", "-q", "-f", "main");
    git("clean", "-fdq", "stacks");
  });

  it("classifies a change: declarations only, or code", () => {
    const classify = (head: string) => execFileSync("bash", [join(repo, "scripts/ci/classify.sh"), "main", head], { cwd: repo, encoding: "utf8" });
    expect(classify(sha.drop!)).toBe('code-changed=false\nstacks=["dev"]\n');
    expect(classify(sha.code!)).toBe('code-changed=true\nstacks=["dev"]\n');
    expect(classify(sha.codeOnly!)).toBe("code-changed=true\nstacks=[]\n");
  });

  it("reads the head's stacks/ as data over the base checkout, and fails on an unacknowledged guard", async () => {
    expect(await planSh({ HEAD_SHA: sha.drop!, TENANCY_PREVIEW: "0" })).toBe(1);
    // The work tree is the base's, with the head's declaration written over it; HEAD did not move.
    expect(git("rev-parse", "HEAD")).toBe(git("rev-parse", "main"));
    expect(readFileSync(join(repo, "stacks/dev/tenancy.yaml"), "utf8")).toBe(git("show", `${sha.drop}:stacks/dev/tenancy.yaml`) + "\n");
    expect(comment()).toContain("- **error** <code>workspace-delete-guarded</code>");
    expect(comment()).toContain("- `tenancy plan`: violations (exit 1)");
    expect(meta()).toMatchObject({ headSha: sha.drop, baseSha: git("rev-parse", "main"), engine: "disabled", stacks: ["dev"], codeChanged: [] });
  });

  it("a commit trailer no longer acknowledges (the author would acknowledge their own change)", async () => {
    expect(await planSh({ HEAD_SHA: sha.trailer!, TENANCY_PREVIEW: "0" })).toBe(1);
    expect(meta().acknowledgements).toEqual([]);
  });

  it("passes once a label acknowledges the guard for that workspace; the comment names commit, run and who (golden)", async () => {
    const code = await planSh({
      HEAD_SHA: sha.drop!,
      TENANCY_PREVIEW: "0",
      PR_NUMBER: "7",
      TENANCY_LABELS: "bug acknowledge:workspace-delete-guarded:internal acknowledge:not-a-label acknowledge:@acme/team:x",
      TENANCY_ACK_BY: "workspace-delete-guarded:internal=rita-reviewer",
      TENANCY_RUN_URL: "https://github.example/acme/infra/actions/runs/42",
    });
    expect(code).toBe(0);
    expect(meta().acknowledgements).toEqual([{ ack: "workspace-delete-guarded:internal", via: "label", by: "rita-reviewer" }]);
    expect(meta().pr).toBe(7);
    const body = comment();
    expect(body).toContain("- **acknowledged** <code>workspace-delete-guarded</code>");
    expect(body).toContain(`Planned at \`${sha.drop!.slice(0, 12)}\``);
    expect(body).toContain("[pipeline run](https://github.example/acme/infra/actions/runs/42)");
    expect(body).toContain("- `workspace-delete-guarded:internal` (label by @\u200brita-reviewer)");
    expect(body).not.toContain("@acme");
    const main = git("rev-parse", "main");
    await expect(body.replaceAll(main, "<base>").replaceAll(sha.drop!.slice(0, 12), "<head>").replaceAll(main.slice(0, 12), "<base>"))
      .toMatchFileSnapshot("__snapshots__/plan-comment.md");
  });

  it("says the engine plan was skipped, and fails, when there is no state backend", async () => {
    expect(await planSh({ HEAD_SHA: sha.drop!, TENANCY_LABELS: "acknowledge:workspace-delete-guarded:internal" })).toBe(2);
    expect(comment()).toContain("(dev): skipped: no state backend for this run");
    expect(comment()).toContain("PULUMI_BACKEND_URL is not set");
  });

  it("never creates a stack: one missing from the backend is an error in the comment", async () => {
    const state = join(tmp, "empty-backend");
    mkdirSync(state);
    const code = await planSh({ HEAD_SHA: sha.drop!, TENANCY_LABELS: "acknowledge:workspace-delete-guarded:internal", PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "x" });
    expect(code).toBe(1);
    expect(comment()).toContain("(dev): failed: the stack does not exist in the state backend (pull requests never create stacks; create it by hand first)");
    expect(readFileSync(join(ci, "preview-dev.txt"), "utf8")).toContain("stack dev does not exist in the state backend");
    expect(existsSync(join(ci, "plans/dev.plan.json"))).toBe(false);
    // No stack, no state in the backend (only the backend's own meta.yaml, written on login).
    expect(execFileSync("find", [state, "-type", "f"], { encoding: "utf8" }).split("\n").filter(Boolean).map((f) => f.slice(state.length)).sort())
      .toEqual(["/.pulumi/meta.yaml", "/.pulumi/meta.yaml.attrs"]);
  });

  describe("a pull request that edits components/", () => {
    const secrets = {
      PULUMI_BACKEND_URL: `file://${join(tmp, "state-canary-backend")}`,
      PULUMI_CONFIG_PASSPHRASE: "canary-passphrase-4f1e9a",
      AWS_SECRET_ACCESS_KEY: "canary-aws-key-77c2d0",
      GITHUB_TOKEN: "canary-token-b81e3c",
      MY_VAULT_KEY: "canary-extra-0d9f1e",
    };
    // Every process plan.sh starts, with its full environment (strace -v shows envp).
    const traced = async (head: string) => {
      const log = join(tmp, `strace-${head.slice(0, 8)}.log`);
      const code = await planSh({ HEAD_SHA: head, ...secrets, TENANCY_SECRET_VARS: "MY_VAULT_KEY" },
        ["strace", "-f", "-qq", "-v", "-s", "4096", "-e", "trace=execve", "-e", "signal=none", "-o", log]);
      const execs = readFileSync(log, "utf8").split("\n").filter((l) => l.includes("execve("));
      return { code, execs };
    };

    it("starts no process with a secret (strace of every execve), and the comment says the engine was skipped", async () => {
      const { code, execs } = await traced(sha.code!);
      expect(code).toBe(1); // declarations changed along with code: nothing reviewed could be applied
      // The script itself is started with them (the job's environment); nothing it starts is.
      expect(execs[0]).toContain("scripts/ci/plan.sh");
      expect(execs.length).toBeGreaterThan(20);
      const leaks = execs.slice(1).filter((l) => Object.values(secrets).some((v) => l.includes(v)));
      expect(leaks.map((l) => l.slice(0, 160))).toEqual([]);
      expect(execs.some((l) => l.includes("dist/cli/tenancy.js") && l.includes('"plan"'))).toBe(true);
      expect(existsSync(join(tmp, "state-canary-backend"))).toBe(false);
      expect(meta()).toMatchObject({ engine: "code-changed", codeChanged: ["components/index.ts"], stacks: ["dev"] });
      expect(comment()).toContain("**Engine preview skipped: this pull request changes code outside `stacks/`** (`components/index.ts`)");
      expect(comment()).toContain("- engine plan: skipped: code outside `stacks/` changed (no secrets for this pull request)");
      // The declarations are still planned, as data.
      expect(comment()).toContain("<code>workspace-delete-guarded</code>");
    });

    it("the trace does see them where they belong: a declarations-only change hands them to the engine step", async () => {
      const { execs } = await traced(sha.drop!);
      const holders = execs.slice(1).filter((l) => l.includes(secrets.PULUMI_CONFIG_PASSPHRASE));
      expect(holders.length).toBeGreaterThan(0);
      expect(holders.every((l) => /scripts\/toolchain\/resolve\.mjs|pulumi|tenancy\.js|"(sed|cp|echo|cat|node|bash)"/.test(l))).toBe(true);
      // ...and none before the change was classified (the first tenancy process, validate, is after).
      const first = execs.findIndex((l, i) => i > 0 && l.includes(secrets.PULUMI_CONFIG_PASSPHRASE));
      const validate = execs.findIndex((l) => l.includes('"validate"'));
      expect(first).toBeGreaterThan(validate);
    });

    it("a code-only change passes: nothing to apply, no secret either", async () => {
      const { code, execs } = await traced(sha.codeOnly!);
      expect(code).toBe(0);
      expect(execs.slice(1).filter((l) => Object.values(secrets).some((v) => l.includes(v))).map((l) => l.slice(0, 160))).toEqual([]);
      expect(comment()).toContain("Engine preview skipped");
    });
  });
});
