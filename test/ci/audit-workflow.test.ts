// The scheduled audit workflow: audits every stack on a schedule, uploads SARIF per stack under
// its own category, and keeps ONE drift issue (found by marker and author) up to date against a
// mock GitHub API: opened on drift, one section per stack, closed when every stack is clean.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);

type Step = { uses?: string; run?: string; if?: string; with?: Record<string, string>; env?: Record<string, string> };
type Workflow = { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, { permissions?: Record<string, string>; strategy?: { "max-parallel"?: number; matrix: Record<string, string> }; steps: Step[] }> };

describe("scheduled audit workflow", () => {
  const wf = load(readFileSync(join(root, ".github/workflows/audit.yml"), "utf8")) as Workflow;

  it("runs on a schedule (and by hand), one stack at a time over every stack", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(wf.jobs.stacks!.steps.find((s) => s.run)!.run).toContain('scripts/ci/changed-stacks.sh --json "" HEAD');
    const audit = wf.jobs.audit!;
    expect(audit.strategy!["max-parallel"]).toBe(1);
    expect(audit.strategy!.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    expect(audit.permissions).toEqual({ contents: "read", "security-events": "write", issues: "write" });
  });

  it("uploads the stack's SARIF with its category, then keeps the drift issue, then fails on drift", () => {
    const steps = wf.jobs.audit!.steps;
    const upload = steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"))!;
    expect(upload.with).toEqual({ sarif_file: ".tenancy/audit/audit.sarif", category: "${{ steps.audit.outputs.category }}" });
    const order = steps.map((s) => s.run ?? s.uses!.split("@")[0]);
    expect(order.slice(-4)).toEqual(["scripts/ci/audit.sh", "github/codeql-action/upload-sarif", 'node scripts/ci/audit-issue.mjs --stack "$STACK" --dir .tenancy/audit', 'exit "$(cat .tenancy/audit/audit.exit)"']);
  });
});

interface Issue { number: number; title: string; body: string; state: string; user: { login: string }; pull_request?: object }

/** A GitHub issues API in memory. */
async function mockGitHub(issues: Issue[]) {
  const seen: string[] = [];
  const body = async (req: IncomingMessage) => { let s = ""; for await (const c of req) s += c; return JSON.parse(s) as Record<string, string>; };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, "http://x");
    seen.push(`${req.method} ${url.pathname}${url.search} ${req.headers.authorization}`);
    res.setHeader("content-type", "application/json");
    if (req.method === "GET" && url.pathname === "/repos/acme/infra/issues") {
      const page = Number(url.searchParams.get("page"));
      const creator = url.searchParams.get("creator");
      const list = issues.filter((i) => i.state === url.searchParams.get("state") && i.user.login === creator);
      return res.end(JSON.stringify(page === 1 ? list : []));
    }
    if (req.method === "POST" && url.pathname === "/repos/acme/infra/issues") {
      const b = await body(req);
      const created: Issue = { number: 100 + issues.length, title: b.title!, body: b.body!, state: "open", user: { login: "github-actions[bot]" } };
      issues.push(created);
      return res.end(JSON.stringify(created));
    }
    const patch = /^\/repos\/acme\/infra\/issues\/(\d+)$/.exec(url.pathname);
    if (req.method === "PATCH" && patch) {
      Object.assign(issues.find((i) => i.number === Number(patch[1]))!, await body(req));
      return res.end("{}");
    }
    res.statusCode = 404;
    res.end("{}");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { seen, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("scripts/ci/audit-issue.mjs", () => {
  it("opens one issue on drift, adds and replaces per-stack sections, ignores look-alikes, closes when all are clean", { timeout: 60_000 }, async () => {
    const marker = "<!-- tenancy-audit-drift -->";
    const issues: Issue[] = [
      { number: 1, title: "unrelated", body: "hello", state: "open", user: { login: "github-actions[bot]" } },
      { number: 2, title: "fake", body: `${marker} planted by someone`, state: "open", user: { login: "mallory" } },
    ];
    const api = await mockGitHub(issues);
    const dir = mkdtempSync(join(tmpdir(), "tenancy-audit-issue-"));
    const env = { ...process.env, GITHUB_API_URL: api.url, GITHUB_REPOSITORY: "acme/infra", GITHUB_TOKEN: "test-token", RUN_URL: "https://ci.example/run/1" };
    const audit = async (stack: string, exit: number, report: string) => {
      writeFileSync(join(dir, "audit.md"), report);
      writeFileSync(join(dir, "audit.exit"), `${exit}\n`);
      return (await run(process.execPath, [join(root, "scripts/ci/audit-issue.mjs"), "--stack", stack, "--dir", dir], { env })).stderr;
    };
    try {
      expect(await audit("dev", 0, "clean")).toBe("stack dev clean; no drift issue open\n");
      expect(issues).toHaveLength(2);
      expect(await audit("dev", 1, "### ❌ 2 findings: 2 boundary\n")).toBe("drift issue opened (#102)\n");
      expect(await audit("agency", 2, "cannot connect")).toBe("drift issue updated (#102)\n");
      const issue = issues.find((i) => i.number === 102)!;
      expect(issue.state).toBe("open");
      expect(issue.body.startsWith(marker)).toBe(true);
      expect([...issue.body.matchAll(/^### Stack `(\w+)`: (.+?) \(\[run\]/gm)].map((m) => `${m[1]}: ${m[2]}`)).toEqual(["agency: the audit could not run (exit 2)", "dev: drift found"]);
      expect(await audit("dev", 0, "clean again")).toBe("drift issue updated (#102)\n");
      expect(issue.body).toContain("### Stack `dev`: clean");
      expect(issue.body).not.toContain("2 findings");
      expect(await audit("agency", 0, "clean")).toBe("drift issue closed (#102)\n");
      expect(issue.state).toBe("closed");
      // The look-alike by another author was never touched, and every call carried the token.
      expect(issues.find((i) => i.number === 2)!.body).toBe(`${marker} planted by someone`);
      expect(api.seen.every((s) => s.endsWith("Bearer test-token"))).toBe(true);
      expect(api.seen.filter((s) => s.startsWith("GET")).every((s) => s.includes("creator=github-actions%5Bbot%5D"))).toBe(true);
      // Drift after closing opens a new issue rather than reopening the old one.
      expect(await audit("dev", 1, "again")).toBe("drift issue opened (#103)\n");
    } finally {
      api.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("cuts a long report and writes the body without the API in a dry run", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenancy-audit-issue-"));
    try {
      writeFileSync(join(dir, "audit.md"), "x".repeat(40_000));
      writeFileSync(join(dir, "audit.exit"), "1");
      await run(process.execPath, [join(root, "scripts/ci/audit-issue.mjs"), "--stack", "dev", "--dir", dir, "--dry-run", join(dir, "out.md")], { env: { ...process.env, GITHUB_API_URL: "http://127.0.0.1:1" } });
      const out = readFileSync(join(dir, "out.md"), "utf8");
      expect(out.length).toBeLessThan(16_000);
      expect(out).toContain("report cut at 15,000 characters");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
