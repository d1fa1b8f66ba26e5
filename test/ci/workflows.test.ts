// The GitHub workflows are linted by actionlint (a real binary, built from the Go module proxy
// when not installed) and hold the properties the pipeline relies on; the comment script finds
// its own comment by marker and updates it instead of adding one per push.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
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
type Workflow = { on: Record<string, unknown>; jobs: Record<string, { steps: { uses?: string; run?: string; env?: Record<string, string> }[]; concurrency?: { group: string; "cancel-in-progress": boolean }; strategy?: { matrix: Record<string, string> } }>; concurrency?: { group: string } };
const parsed = (f: string) => load(read(f)) as Workflow;

describe("GitHub workflows", () => {
  it("are the pull-request, the apply and the scheduled audit workflows", () => {
    expect(files.sort()).toEqual(["apply.yml", "audit.yml", "pr.yml"]);
  });

  it("pass actionlint", { timeout: 600_000 }, async () => {
    const result = await run(join(root, "scripts/ci/actionlint.sh"), files.map((f) => join(workflows, f)), { cwd: root }).catch((e) => e);
    expect(result.stdout ?? "", result.stderr).toBe("");
    expect(result.code ?? 0).toBe(0);
  });

  it("fail actionlint when broken (the linter really checks)", { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenancy-actionlint-"));
    const broken = join(dir, "broken.yml");
    writeFileSync(broken, read("apply.yml").replace("${{ matrix.stack }}", "${{ matrix.stak }}").replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    bogus-key: 1"));
    const result = await run(join(root, "scripts/ci/actionlint.sh"), [broken], { cwd: root }).then(() => ({ code: 0, stdout: "" }), (e) => e);
    rmSync(dir, { recursive: true });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("bogus-key");
    expect(result.stdout).toContain("stak");
  });

  it("pin every action by commit SHA, with the version in a comment", () => {
    for (const f of files) {
      const uses = read(f).split("\n").filter((l) => /^\s*-?\s*uses:/.test(l));
      expect(uses.length, f).toBeGreaterThan(0);
      for (const line of uses) expect(line, f).toMatch(/uses: [\w.-]+\/[\w.-]+(?:\/[\w.-]+)*@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it("keep all logic in scripts/ci: the pull request runs plan.sh, the merge apply.sh per changed stack", () => {
    const pr = parsed("pr.yml");
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    const prRuns = pr.jobs.plan!.steps.filter((s) => s.run).map((s) => s.run);
    expect(prRuns).toEqual(["npm ci --no-audit --no-fund", "scripts/ci/plan.sh"]);
    const prEnv = pr.jobs.plan!.steps.find((s) => s.run === "scripts/ci/plan.sh")!.env!;
    expect(prEnv).toMatchObject({ PULUMI_BACKEND_URL: "${{ secrets.PULUMI_BACKEND_URL }}", PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });

    const apply = parsed("apply.yml");
    expect(apply.on).toEqual({ push: { branches: ["main"] } });
    expect(apply.jobs.changes!.steps.map((s) => s.run).filter(Boolean)[0]).toContain("scripts/ci/changed-stacks.sh --json");
    const job = apply.jobs.apply!;
    expect(job.strategy!.matrix.stack).toBe("${{ fromJSON(needs.changes.outputs.stacks) }}");
    expect(job.concurrency).toEqual({ group: "tenancy-apply-${{ matrix.stack }}", "cancel-in-progress": false });
    const step = job.steps.find((s) => s.run === "scripts/ci/apply.sh")!;
    expect(step.env).toMatchObject({ STACK: "${{ matrix.stack }}", PULUMI_BACKEND_URL: "${{ secrets.PULUMI_BACKEND_URL }}", PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
  });
});

describe("scripts/ci/comment.mjs post", () => {
  it("creates one comment, then updates that same comment (found by its marker) on every later push", async () => {
    const comments: { id: number; body: string }[] = [{ id: 1, body: "LGTM" }, { id: 2, body: "<!-- someone-else --> hi" }];
    const seen: string[] = [];
    const body = async (req: IncomingMessage) => { let s = ""; for await (const c of req) s += c; return s ? JSON.parse(s) : undefined; };
    const server = createServer(async (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      const url = new URL(req.url!, "http://x");
      res.setHeader("content-type", "application/json");
      if (req.method === "GET" && url.pathname === "/repos/acme/infra/issues/7/comments") {
        const page = Number(url.searchParams.get("page"));
        return res.end(JSON.stringify(page === 1 ? comments : []));
      }
      if (req.method === "POST" && url.pathname === "/repos/acme/infra/issues/7/comments") {
        const created = { id: 100 + comments.length, body: (await body(req)).body };
        comments.push(created);
        return res.end(JSON.stringify(created));
      }
      const patch = /^\/repos\/acme\/infra\/issues\/comments\/(\d+)$/.exec(url.pathname);
      if (req.method === "PATCH" && patch) {
        comments.find((c) => c.id === Number(patch[1]))!.body = (await body(req)).body;
        return res.end("{}");
      }
      res.statusCode = 404;
      res.end("{}");
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const dir = mkdtempSync(join(tmpdir(), "tenancy-comment-"));
    const env = { ...process.env, GITHUB_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, GITHUB_REPOSITORY: "acme/infra", PR_NUMBER: "7", GITHUB_TOKEN: "test-token" };
    const post = async (text: string) => {
      writeFileSync(join(dir, "body.md"), text);
      return run(process.execPath, [join(root, "scripts/ci/comment.mjs"), "post", "--body", join(dir, "body.md")], { env });
    };
    try {
      expect((await post("<!-- tenancy-plan-comment -->\nfirst push\n")).stderr).toBe("comment created (id 102)\n");
      expect((await post("<!-- tenancy-plan-comment -->\nsecond push\n")).stderr).toBe("comment updated (id 102)\n");
      expect(comments.map((c) => c.body)).toEqual(["LGTM", "<!-- someone-else --> hi", "<!-- tenancy-plan-comment -->\nsecond push\n"]);
      expect(seen.every((s) => s.endsWith("Bearer test-token"))).toBe(true);
      // Dry run: the body goes to a file and nothing reaches the API.
      const before = seen.length;
      writeFileSync(join(dir, "body.md"), "dry");
      await run(process.execPath, [join(root, "scripts/ci/comment.mjs"), "post", "--body", join(dir, "body.md"), "--dry-run", join(dir, "out.md")], { env });
      expect(readFileSync(join(dir, "out.md"), "utf8")).toBe("dry");
      expect(seen.length).toBe(before);
    } finally {
      server.close();
      rmSync(dir, { recursive: true });
    }
  });
});
