// The pipeline files: the GitHub workflows are linted by actionlint (a real binary, built from
// the Go module proxy when not installed) and hold the trust split the pipeline relies on (which
// job holds which secret and which write permission); the GitLab file is parsed and checked the
// same way. The comment and lookup scripts run against a mock GitHub API (a local HTTP server).
import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);
const workflows = join(root, ".github/workflows");
const files = readdirSync(workflows).filter((f) => f.endsWith(".yml"));
const read = (f: string) => readFileSync(join(workflows, f), "utf8");
interface Step { name?: string; id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }
interface Job { permissions?: Record<string, string>; environment?: string; if?: string; needs?: string; steps: Step[]; concurrency?: unknown }
interface Workflow { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, Job>; concurrency?: unknown }
const parsed = (f: string) => load(read(f)) as Workflow;
const scriptsNamed = (text: string) => [...new Set(text.match(/scripts\/ci\/[\w.-]+/g) ?? [])];

describe("GitHub workflows", () => {
  it("are the trusted plan, the untrusted checks, the apply and the scheduled audit", () => {
    expect(files.sort()).toEqual(["apply.yml", "audit.yml", "checks.yml", "plan.yml"]);
  });

  it("pass actionlint", { timeout: 600_000 }, async () => {
    const result = await run(join(root, "scripts/ci/actionlint.sh"), files.map((f) => join(workflows, f)), { cwd: root }).catch((e) => e);
    expect(result.stdout ?? "", result.stderr).toBe("");
    expect(result.code ?? 0).toBe(0);
  });

  it("fail actionlint when broken (the linter really checks)", { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenancy-actionlint-"));
    const broken = join(dir, "broken.yml");
    writeFileSync(broken, read("apply.yml").replace("${{ steps.reviewed.outputs.head }}", "${{ steps.reviewd.outputs.head }}").replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    bogus-key: 1"));
    const result = await run(join(root, "scripts/ci/actionlint.sh"), [broken], { cwd: root }).then(() => ({ code: 0, stdout: "" }), (e) => e);
    rmSync(dir, { recursive: true });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("bogus-key");
    expect(result.stdout).toContain("reviewd");
  });

  it("pin every action by commit SHA, with the version in a comment", () => {
    for (const f of files) {
      const uses = read(f).split("\n").filter((l) => /^\s*-?\s*uses:/.test(l));
      expect(uses.length, f).toBeGreaterThan(0);
      for (const line of uses) expect(line, f).toMatch(/uses: [\w.-]+\/[\w.-]+(?:\/[\w.-]+)*@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it("never persist the checkout token, and name only scripts that exist", () => {
    for (const f of files) {
      for (const [name, job] of Object.entries(parsed(f).jobs)) {
        for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"))) {
          expect(step.with?.["persist-credentials"], `${f} ${name}`).toBe(false);
        }
      }
      for (const script of scriptsNamed(read(f))) expect(() => accessSync(join(root, script), constants.R_OK), script).not.toThrow();
    }
  });

  // The scheduled audit (audit.yml, test/ci/audit-workflow.test.ts) runs main's code only; the
  // trust split concerns the pull-request and merge workflows.
  const reviewFlow = ["apply.yml", "checks.yml", "plan.yml"];

  it("hold secrets only in the engine step of the trusted plan and in the apply", () => {
    const holders: string[] = [];
    for (const f of reviewFlow) {
      const w = parsed(f);
      for (const [name, job] of Object.entries(w.jobs)) {
        job.steps.forEach((step, i) => {
          if (JSON.stringify(step).includes("secrets.")) holders.push(`${f} ${name} ${step.name ?? step.run ?? i}`);
        });
      }
    }
    expect(holders).toEqual([
      "apply.yml apply apply the reviewed plan",
      "plan.yml plan validate, plan, engine plan (declarations only, with secrets)",
    ]);
    const plan = parsed("plan.yml");
    const engine = plan.jobs.plan!.steps.find((s) => s.name?.startsWith("validate, plan, engine plan"))!;
    expect(engine.if).toBe("steps.classify.outputs.code-changed == 'false'");
    const noSecrets = plan.jobs.plan!.steps.find((s) => s.name?.startsWith("validate and plan (code changed"))!;
    expect(noSecrets.if).toBe("steps.classify.outputs.code-changed != 'false'");
    expect(noSecrets.run).toBe(engine.run);
  });

  it("give pull-requests: write only to the comment jobs, which run no project code", () => {
    for (const f of reviewFlow) {
      const w = parsed(f);
      expect(JSON.stringify(w.permissions ?? {}), f).not.toContain("write");
      for (const [name, job] of Object.entries(w.jobs)) {
        const writes = Object.entries(job.permissions ?? {}).filter(([, v]) => v === "write").map(([k]) => k);
        if (name === "comment") {
          expect(writes, `${f} ${name}`).toEqual(["pull-requests"]);
          const runs = job.steps.map((s) => s.run).filter(Boolean).join("\n");
          expect(runs).not.toMatch(/npm |npx |plan\.sh|apply\.sh|dist\/cli|tenancy (plan|apply)/);
          expect(runs).toMatch(/node scripts\/ci\/comment\.mjs post/);
          const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))!;
          expect(checkout.with?.["sparse-checkout"]).toBe("scripts/ci");
        } else {
          expect(writes, `${f} ${name}`).toEqual([]);
        }
      }
    }
  });

  it("plan on pull_request_target from the base branch; the pull request's head is only fetched, never run", () => {
    const plan = parsed("plan.yml");
    expect(Object.keys(plan.on)).toEqual(["pull_request_target"]);
    const steps = plan.jobs.plan!.steps;
    const checkouts = steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkouts[0]!.with).toEqual({ "fetch-depth": 0, "persist-credentials": false }); // the base: no ref
    expect(checkouts[1]!.with).toMatchObject({ ref: "${{ github.event.pull_request.head.sha }}", path: "pr-head", "sparse-checkout": "stacks" });
    const fetch = steps[steps.indexOf(checkouts[1]!) + 1]!;
    expect(fetch.run).toBe('git fetch --no-tags --quiet ./pr-head "$HEAD_SHA" && rm -rf pr-head');
    for (const step of steps) expect(JSON.stringify(step.with ?? {}) + (step.run ?? "")).not.toMatch(/working-directory|pr-head\/|cd pr-head/);
    const engine = steps.find((s) => s.name?.startsWith("validate, plan, engine plan"))!;
    expect(engine.env).toMatchObject({ BASE_REF: "${{ github.sha }}", HEAD_SHA: "${{ github.event.pull_request.head.sha }}" });
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
    expect(upload.with?.name).toBe("tenancy-plan-${{ github.event.pull_request.number }}-${{ github.event.pull_request.head.sha }}");

    const checks = parsed("checks.yml");
    expect(Object.keys(checks.on)).toEqual(["pull_request"]);
    expect(checks.permissions).toEqual({ contents: "read" });
  });

  it("apply the reviewed artifact on a merge: no re-plan, no concurrency group that drops queued runs", () => {
    const apply = parsed("apply.yml");
    expect(apply.on).toEqual({ push: { branches: ["main"] } });
    expect(apply.concurrency).toBeUndefined();
    expect(apply.jobs.apply!.concurrency).toBeUndefined();
    const steps = apply.jobs.apply!.steps;
    expect(steps.find((s) => s.id === "reviewed")!.run).toContain("node scripts/ci/github.mjs reviewed --sha \"$GITHUB_SHA\" --workflow .github/workflows/plan.yml");
    const download = steps.find((s) => s.uses?.startsWith("actions/download-artifact@"))!;
    expect(download.with).toMatchObject({ name: "${{ steps.reviewed.outputs.artifact }}", "run-id": "${{ steps.reviewed.outputs.run-id }}" });
    const step = steps.find((s) => s.run === "scripts/ci/apply.sh")!;
    expect(step.env).toMatchObject({ REVIEWED_HEAD: "${{ steps.reviewed.outputs.head }}" });
    // apply.sh applies plan files; it never plans.
    expect(readFileSync(join(root, "scripts/ci/apply.sh"), "utf8")).not.toMatch(/^\s*tenancy plan/m);
    for (const script of ["plan.sh", "apply.sh", "lib.sh"]) expect(readFileSync(join(root, "scripts/ci", script), "utf8")).not.toContain("--create");
  });
});

describe("GitLab pipeline (.gitlab-ci.yml)", () => {
  const text = readFileSync(join(root, ".gitlab-ci.yml"), "utf8");
  type GitLabJob = { stage: string; rules: { if: string; when?: string }[]; script: string[]; needs?: { job: string; artifacts: boolean }[]; resource_group?: string; artifacts?: Record<string, unknown>; environment?: unknown };
  const gitlab = load(text) as Record<string, unknown> & { stages: string[]; variables: Record<string, string> };
  const jobs = Object.fromEntries(Object.entries(gitlab).filter(([k]) => !["workflow", "stages", "default", "variables"].includes(k))) as Record<string, GitLabJob>;
  // GitLab's keywords for what this file uses (a small stand-in for its JSON schema, which no
  // npm package here ships for Node 20).
  const JOB_KEYS = new Set(["stage", "rules", "script", "before_script", "artifacts", "needs", "resource_group", "environment", "variables", "image"]);

  it("parses as YAML into the plan and apply jobs, with GitLab's keywords only", () => {
    expect(gitlab.stages).toEqual(["plan", "apply"]);
    expect(Object.keys(jobs)).toEqual(["tenancy-plan", "tenancy-engine-plan", "tenancy-apply"]);
    for (const [name, job] of Object.entries(jobs)) {
      for (const key of Object.keys(job)) expect(JOB_KEYS.has(key), `${name}.${key}`).toBe(true);
      expect(gitlab.stages).toContain(job.stage);
      expect(Array.isArray(job.script) && job.script.every((s) => typeof s === "string")).toBe(true);
    }
  });

  it("names only scripts that exist and are executable", () => {
    const named = scriptsNamed(text);
    expect(named.sort()).toEqual(["scripts/ci/apply.sh", "scripts/ci/plan.sh"]);
    for (const script of named) expect(() => accessSync(join(root, script), constants.X_OK), script).not.toThrow();
  });

  it("holds no secret in the file; the jobs that need them run only on the protected default branch", () => {
    expect(text).not.toMatch(/PULUMI_BACKEND_URL:|PULUMI_CONFIG_PASSPHRASE:/);
    expect(JSON.stringify(gitlab.variables)).not.toMatch(/PULUMI/);
    const mr = jobs["tenancy-plan"]!;
    expect(mr.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(mr.script.join("\n")).toContain("TENANCY_PREVIEW=0");
    for (const name of ["tenancy-engine-plan", "tenancy-apply"]) {
      expect(jobs[name]!.rules.map((r) => r.if)).toEqual(['$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_COMMIT_REF_PROTECTED == "true"']);
    }
  });

  it("applies the engine plan's artifact by hand, queued (resource_group), never a new plan", () => {
    const apply = jobs["tenancy-apply"]!;
    expect(apply.rules[0]!.when).toBe("manual");
    expect(apply.needs).toEqual([{ job: "tenancy-engine-plan", artifacts: true }]);
    expect(apply.resource_group).toBe("tenancy-apply");
    expect(apply.script.join("\n")).toMatch(/TENANCY_PLAN_DIR=tenancy-ci REVIEWED_HEAD="\$CI_COMMIT_SHA"/);
    // Every script line is valid POSIX shell (GitLab may run them with sh).
    for (const job of Object.values(jobs)) {
      for (const line of job.script) expect(() => execFileSync("sh", ["-n", "-c", line]), line).not.toThrow();
    }
    expect(apply.script.join("\n")).not.toContain("plan.sh");
  });
});

/** A mock GitHub API: routes by "METHOD /path", each returns JSON (or a status). */
async function mockGitHub(routes: (req: IncomingMessage, url: URL, body: () => Promise<{ body?: string }>) => unknown) {
  const seen: string[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    const url = new URL(req.url!, "http://x");
    const body = async () => { let s = ""; for await (const c of req) s += c; return s ? JSON.parse(s) : {}; };
    const out = await routes(req, url, body);
    res.setHeader("content-type", "application/json");
    if (typeof out === "number") { res.statusCode = out; return res.end("{}"); }
    if (out === undefined) { res.statusCode = 404; return res.end("{}"); }
    res.end(JSON.stringify(out));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

// Each case starts node a few times: seconds on a loaded machine.
describe("scripts/ci/comment.mjs post", { timeout: 60_000 }, () => {
  type Comment = { id: number; body: string; user: { login: string } };
  const commentsApi = (comments: Comment[], me: number | { login: string }) => mockGitHub(async (req, url, body) => {
    if (req.method === "GET" && url.pathname === "/user") return me;
    if (req.method === "GET" && url.pathname === "/repos/acme/infra/issues/7/comments") return Number(url.searchParams.get("page")) === 1 ? comments : [];
    if (req.method === "POST" && url.pathname === "/repos/acme/infra/issues/7/comments") {
      const created = { id: 100 + comments.length, body: (await body()).body!, user: { login: typeof me === "number" ? "github-actions[bot]" : me.login } };
      comments.push(created);
      return created;
    }
    const patch = /^\/repos\/acme\/infra\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (req.method === "PATCH" && patch) {
      comments.find((c) => c.id === Number(patch[1]))!.body = (await body()).body!;
      return {};
    }
    return undefined;
  });
  const poster = (api: string, dir: string, extra: Record<string, string> = {}) => async (text: string, marker?: string) => {
    writeFileSync(join(dir, "body.md"), text);
    const env = { ...process.env, GITHUB_API_URL: api, GITHUB_REPOSITORY: "acme/infra", PR_NUMBER: "7", GITHUB_TOKEN: "test-token", ...extra };
    return run(process.execPath, [join(root, "scripts/ci/comment.mjs"), "post", "--body", join(dir, "body.md"), ...(marker ? ["--marker", marker] : [])], { env });
  };

  it("edits only the bot's own comment: a user's comment quoting the marker is left alone", async () => {
    const planted = "<!-- tenancy-plan-comment -->\nplanted by a user: tenancy plan passes";
    const comments: Comment[] = [
      { id: 1, body: "LGTM", user: { login: "ana" } },
      { id: 2, body: planted, user: { login: "mallory" } },
      { id: 3, body: "<!-- tenancy-plan-comment --> a look-alike bot", user: { login: "github-actions" } },
    ];
    // The workflow token may not call GET /user (403): the author is github-actions[bot].
    const api = await commentsApi(comments, 403);
    const dir = mkdtempSync(join(tmpdir(), "tenancy-comment-"));
    const post = poster(api.url, dir);
    try {
      expect((await post("<!-- tenancy-plan-comment -->\nfirst push\n")).stderr).toBe("comment created (id 103)\n");
      expect((await post("<!-- tenancy-plan-comment -->\nsecond push\n")).stderr).toBe("comment updated (id 103)\n");
      expect(comments.map((c) => [c.id, c.user.login, c.body])).toEqual([
        [1, "ana", "LGTM"],
        [2, "mallory", planted],
        [3, "github-actions", "<!-- tenancy-plan-comment --> a look-alike bot"],
        [103, "github-actions[bot]", "<!-- tenancy-plan-comment -->\nsecond push\n"],
      ]);
      expect(api.seen.filter((s) => s.startsWith("PATCH")).map((s) => s.split(" ")[1])).toEqual(["/repos/acme/infra/issues/comments/103"]);
      expect(api.seen.every((s) => s.endsWith("Bearer test-token"))).toBe(true);
      // The apply's refusal is a comment of its own, beside the plan's.
      expect((await post("refused\n", "apply")).stderr).toBe("comment created (id 104)\n");
      expect(comments.at(-1)!.body).toBe("<!-- tenancy-apply-comment -->\nrefused\n");
      expect(comments.find((c) => c.id === 103)!.body).toContain("second push");
      // Dry run: the body goes to a file and nothing reaches the API.
      const before = api.seen.length;
      writeFileSync(join(dir, "body.md"), "dry");
      await run(process.execPath, [join(root, "scripts/ci/comment.mjs"), "post", "--body", join(dir, "body.md"), "--dry-run", join(dir, "out.md")], { env: process.env });
      expect(readFileSync(join(dir, "out.md"), "utf8")).toBe("dry");
      expect(api.seen.length).toBe(before);
    } finally {
      api.close();
      rmSync(dir, { recursive: true });
    }
  });

  it("with a personal or app token, its comment is the one written by that token's login", async () => {
    const comments: Comment[] = [
      { id: 1, body: "<!-- tenancy-plan-comment -->\nold, by the workflow token", user: { login: "github-actions[bot]" } },
      { id: 2, body: "<!-- tenancy-plan-comment -->\nold, by the app", user: { login: "tenancy-bot[bot]" } },
    ];
    const api = await commentsApi(comments, { login: "tenancy-bot[bot]" });
    const dir = mkdtempSync(join(tmpdir(), "tenancy-comment-"));
    try {
      expect((await poster(api.url, dir)("<!-- tenancy-plan-comment -->\nnew\n")).stderr).toBe("comment updated (id 2)\n");
      expect(comments.map((c) => c.body)).toEqual(["<!-- tenancy-plan-comment -->\nold, by the workflow token", "<!-- tenancy-plan-comment -->\nnew\n"]);
      // Told explicitly, it asks nothing.
      const before = api.seen.filter((s) => s.startsWith("GET /user")).length;
      expect((await poster(api.url, dir, { TENANCY_COMMENT_AUTHOR: "github-actions[bot]" })("<!-- tenancy-plan-comment -->\nx\n")).stderr).toBe("comment updated (id 1)\n");
      expect(api.seen.filter((s) => s.startsWith("GET /user")).length).toBe(before);
    } finally {
      api.close();
      rmSync(dir, { recursive: true });
    }
  });
});

describe("scripts/ci/github.mjs", { timeout: 60_000 }, () => {
  const merged = "a".repeat(40);
  const head = "b".repeat(40);
  const name = `tenancy-plan-7-${head}`;
  const lookup = async (artifacts: { id: number; run: number; created: string; expired?: boolean }[], runs: Record<number, { path: string; event: string }>, pulls = [{ number: 7, merged_at: "2026-12-01T00:00:00Z", merge_commit_sha: merged, head: { sha: head } }]) => {
    const api = await mockGitHub(async (req, url) => {
      if (url.pathname === `/repos/acme/infra/commits/${merged}/pulls`) return pulls;
      if (url.pathname === "/repos/acme/infra/actions/artifacts" && url.searchParams.get("name") === name) {
        return { artifacts: artifacts.map((a) => ({ id: a.id, name, expired: a.expired ?? false, created_at: a.created, workflow_run: { id: a.run } })) };
      }
      const r = /^\/repos\/acme\/infra\/actions\/runs\/(\d+)$/.exec(url.pathname);
      if (r && runs[Number(r[1])]) return { id: Number(r[1]), html_url: `https://github.example/acme/infra/actions/runs/${r[1]}`, ...runs[Number(r[1])] };
      return undefined;
    });
    try {
      const out = await run(process.execPath, [join(root, "scripts/ci/github.mjs"), "reviewed", "--sha", merged], { env: { ...process.env, GITHUB_API_URL: api.url, GITHUB_REPOSITORY: "acme/infra", GITHUB_TOKEN: "t" } });
      return Object.fromEntries(out.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    } finally {
      api.close();
    }
  };

  it("finds the newest plan artifact of the trusted workflow for the merged head; a look-alike from the pull request's own workflow is not taken", async () => {
    const found = await lookup(
      [
        { id: 1, run: 11, created: "2026-12-01T10:00:00Z" },
        { id: 2, run: 12, created: "2026-12-01T11:00:00Z" },
        { id: 3, run: 13, created: "2026-12-01T12:00:00Z" }, // newest, but uploaded by the pull request's own code
        { id: 4, run: 14, created: "2026-12-01T13:00:00Z", expired: true },
      ],
      { 11: { path: ".github/workflows/plan.yml", event: "pull_request_target" }, 12: { path: ".github/workflows/plan.yml", event: "pull_request_target" }, 13: { path: ".github/workflows/checks.yml", event: "pull_request" }, 14: { path: ".github/workflows/plan.yml", event: "pull_request_target" } },
    );
    expect(found).toEqual({ pr: "7", head, artifact: name, "run-id": "12", "run-url": "https://github.example/acme/infra/actions/runs/12" });
  });

  it("refuses when there is no trusted plan for that head, or the commit is no pull request's merge", async () => {
    const none = await lookup([{ id: 3, run: 13, created: "2026-12-01T12:00:00Z" }], { 13: { path: ".github/workflows/plan.yml", event: "pull_request" } });
    expect(none.refused).toMatch(/^no plan artifact of \.github\/workflows\/plan\.yml for head bbbbbbbbbbbb of #7/);
    expect(none.artifact).toBeUndefined();
    const direct = await lookup([], {}, []);
    expect(direct).toEqual({ refused: "commit aaaaaaaaaaaa is not the merge of a pull request" });
  });

  it("ackers: who set each acknowledgement label still on the pull request", async () => {
    const api = await mockGitHub(async (req, url) => {
      if (url.pathname === "/repos/acme/infra/issues/7") return { labels: [{ name: "acknowledge:workspace-delete-guarded:internal" }, { name: "bug" }] };
      if (url.pathname === "/repos/acme/infra/issues/7/events") {
        return Number(url.searchParams.get("page")) > 1 ? [] : [
          { event: "labeled", label: { name: "acknowledge:workspace-delete-guarded:internal" }, actor: { login: "ben" } },
          { event: "labeled", label: { name: "acknowledge:admin-removal-guarded:main" }, actor: { login: "mallory" } }, // removed since
          { event: "unlabeled", label: { name: "acknowledge:workspace-delete-guarded:internal" }, actor: { login: "ben" } },
          { event: "labeled", label: { name: "acknowledge:workspace-delete-guarded:internal" }, actor: { login: "rita" } },
        ];
      }
      return undefined;
    });
    try {
      const out = await run(process.execPath, [join(root, "scripts/ci/github.mjs"), "ackers", "--pr", "7"], { env: { ...process.env, GITHUB_API_URL: api.url, GITHUB_REPOSITORY: "acme/infra", GITHUB_TOKEN: "t" } });
      expect(out.stdout).toBe("by=workspace-delete-guarded:internal=rita\n");
    } finally {
      api.close();
    }
  });
});
