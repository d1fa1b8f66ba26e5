// The plan file's checks that need no engine: expiry, commits, code, toolkit version, the base
// read again, the rules re-run with scoped acknowledgements, the engine plan required. Each is
// refused in its own line (exit 1). The engine-side checks (foreign, stale, engine version) are
// in test/e2e/plan-apply.test.ts.
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { apply } from "../../cli/apply.ts";
import { ExitError } from "../../cli/errors.ts";
import { plan } from "../../cli/plan.ts";
import { covers, fileRefusals, parseAcknowledgement, parseTtl, type PlanFile } from "../../cli/plan-file.ts";
import { ACKNOWLEDGEABLE } from "../../policies/plan/plan.ts";

const root = join(import.meta.dirname, "../..");
const dev = readFileSync(join(root, "stacks/dev/tenancy.yaml"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "tenancy-plan-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a refusal"); }, (e: unknown) => {
  if (!(e instanceof ExitError)) throw e;
  return { code: e.exitCode, lines: e.message.split("\n") };
});

const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" }).trim();

/** A tiny project in git: Pulumi.yaml, one code file, stacks/dev. */
function repo(name: string): string {
  const project = join(dir, name);
  mkdirSync(join(project, "stacks/dev"), { recursive: true });
  writeFileSync(join(project, "Pulumi.yaml"), "name: tenancy\nruntime: nodejs\n");
  writeFileSync(join(project, "index.ts"), "export {};\n");
  writeFileSync(join(project, "stacks/dev/tenancy.yaml"), dev);
  git(project, "init", "--quiet");
  git(project, "add", ".");
  git(project, "commit", "--quiet", "-m", "base");
  return project;
}

const NO_ENGINE = "refusing to apply stack dev: engine plan: the plan file holds no Pulumi update plan for it; plan with --engine; nothing was applied";

describe("plan file facts", () => {
  const file = { createdAt: "2026-01-01T00:00:00.000Z", expiresAt: "2026-01-08T00:00:00.000Z", commits: { head: "a".repeat(40), base: null }, code: "c".repeat(64), toolkit: "tenancy-as-code@0.1.0" } as PlanFile;
  const now = { now: new Date("2026-01-02T00:00:00Z"), commits: { head: "a".repeat(40) }, code: "c".repeat(64), toolkit: "tenancy-as-code@0.1.0" };

  it("accepts what matches, and names each check that does not, one line each", () => {
    expect(fileRefusals(file, now)).toEqual([]);
    expect(fileRefusals(file, { now: new Date("2026-01-09T00:00:00Z"), commits: { head: "b".repeat(40) }, code: "d".repeat(64), toolkit: "tenancy-as-code@0.2.0" })).toEqual([
      "expiry: the plan expired at 2026-01-08T00:00:00.000Z (made 2026-01-01T00:00:00.000Z); plan again",
      `head commit: planned at ${"a".repeat(40)}, the work tree is at ${"b".repeat(40)}; plan again`,
      "code: the toolkit's tracked files (outside stacks/) changed since planning (sha256 cccccccccccc… → dddddddddddd…); plan again",
      "toolkit version: planned with tenancy-as-code@0.1.0, this is tenancy-as-code@0.2.0; plan again",
    ]);
  });

  it("refuses a plan made in the future or with an expiry before its creation, and one unparsable date", () => {
    expect(fileRefusals({ ...file, createdAt: "2026-01-03T00:00:00.000Z" }, now)).toHaveLength(1);
    expect(fileRefusals({ ...file, expiresAt: "2025-12-31T00:00:00.000Z" }, now)).toHaveLength(1);
    expect(fileRefusals({ ...file, expiresAt: "soon" }, now)[0]).toMatch(/^expiry:/);
  });

  it("parses --ttl durations and refuses others", () => {
    expect([parseTtl("90m"), parseTtl("12h"), parseTtl("7d"), parseTtl("30")]).toEqual([90 * 60_000, 12 * 3600_000, 7 * 24 * 3600_000, 30_000]);
    for (const bad of ["0", "1w", "-1d", "91d", "soon"]) expect(() => parseTtl(bad)).toThrow(/--ttl must be a duration/);
  });

  it("scopes an acknowledgement to one rule and one workspace; a bare rule id covers all its findings", () => {
    const at = "2026-01-01T00:00:00.000Z";
    const scoped = parseAcknowledgement("mass-removal-guarded:emea", ACKNOWLEDGEABLE, "ana", at);
    expect(scoped).toEqual({ rule: "mass-removal-guarded", workspace: "emea", by: "ana", at });
    expect(covers([scoped], "mass-removal-guarded", "emea")).toBe(true);
    expect(covers([scoped], "mass-removal-guarded", "us")).toBe(false);
    expect(covers([scoped], "mass-removal-guarded", undefined)).toBe(false);
    expect(covers([scoped], "admin-removal-guarded", "emea")).toBe(false);
    expect(covers([parseAcknowledgement("mass-removal-guarded", ACKNOWLEDGEABLE, null, at)], "mass-removal-guarded", undefined)).toBe(true);
    expect(() => parseAcknowledgement("workspace-has-admin:emea", ACKNOWLEDGEABLE, null, at)).toThrow(/only guards can be acknowledged/);
    expect(() => parseAcknowledgement("mass-removal-guarded:Not A Slug", ACKNOWLEDGEABLE, null, at)).toThrow(/not a workspace slug/);
    expect(() => parseAcknowledgement("mass-removal-guarded:a:b", ACKNOWLEDGEABLE, null, at)).toThrow(/give <rule-id>:<workspace>/);
  });
});

describe("tenancy plan --out in git, and apply's checks before any engine", { timeout: 120_000 }, () => {
  it("records the head and base commits, the code digest and the acknowledgements with who and when", async () => {
    const project = repo("records");
    const head = git(project, "rev-parse", "HEAD");
    writeFileSync(join(project, "stacks/dev/tenancy.yaml"), dev.replace(/  - slug: internal[\s\S]*$/, ""));
    await plan({ base: "HEAD:stacks/dev/tenancy.yaml", head: "stacks/dev", out: "p.json", acknowledge: ["workspace-delete-guarded:internal"], acknowledgedBy: "ana@acme.test", ttl: "2h" }, project);
    const file = JSON.parse(readFileSync(join(project, "p.json"), "utf8"));
    expect(file).toMatchObject({
      version: 2,
      commits: { head, base: head },
      code: expect.stringMatching(/^[0-9a-f]{64}$/),
      acknowledgements: [{ rule: "workspace-delete-guarded", workspace: "internal", by: "ana@acme.test", at: file.createdAt }],
      stacks: [{ stack: "dev", base: { source: "HEAD:stacks/dev/tenancy.yaml", commit: head, path: "stacks/dev/tenancy.yaml" } }],
    });
    expect(Date.parse(file.expiresAt) - Date.parse(file.createdAt)).toBe(2 * 3600_000);
  });

  it("refuses a moved head and changed code, reading the base again at its recorded commit", async () => {
    const project = repo("moved");
    writeFileSync(join(project, "stacks/dev/tenancy.yaml"), dev.replace("name: Internal", "name: Internal (renamed)"));
    await plan({ base: "HEAD:stacks/dev/tenancy.yaml", head: "stacks/dev", out: "p.json" }, project);
    expect((await refusal(apply({ plan: "p.json" }, project))).lines).toEqual([NO_ENGINE]);
    appendFileSync(join(project, "index.ts"), "// after review\n");
    const code = await refusal(apply({ plan: "p.json" }, project));
    expect(code.code).toBe(1);
    expect(code.lines[0]).toMatch(/^refusing to apply: code: the toolkit's tracked files \(outside stacks\/\) changed since planning \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\); plan again; nothing was applied$/);
    git(project, "commit", "--quiet", "-am", "after review");
    const moved = await refusal(apply({ plan: "p.json" }, project));
    expect(moved.lines[0]).toMatch(/^refusing to apply: head commit: planned at [0-9a-f]{40}, the work tree is at [0-9a-f]{40}; plan again; nothing was applied$/);
    // The base is read at its commit, not at HEAD: the commit above does not change it.
    expect(moved.lines.some((l) => l.includes("base:"))).toBe(false);
  });

  it("refuses a base that is not the one planned, and runs the rules itself whatever the file says", async () => {
    const project = repo("rules");
    writeFileSync(join(project, "base.yaml"), dev);
    writeFileSync(join(project, "stacks/dev/tenancy.yaml"), dev.replace(/  - slug: internal[\s\S]*$/, ""));
    const made = await plan({ base: "base.yaml", head: "stacks/dev", out: "p.json" }, project);
    expect(made.report.ok).toBe(false);
    const file = JSON.parse(readFileSync(join(project, "p.json"), "utf8"));
    // A verdict written into the file counts for nothing.
    file.stacks[0].ok = true;
    file.ok = true;
    writeFileSync(join(project, "p.json"), JSON.stringify(file));
    expect((await refusal(apply({ plan: "p.json" }, project))).lines).toEqual([
      expect.stringMatching(/^refusing to apply stack dev: rules: its plan has 1 unacknowledged violation \(first: workspace-delete-guarded at base\.yaml:\d+\); fix them and plan again; nothing was applied$/),
      NO_ENGINE,
    ]);
    // Acknowledged for another workspace: still refused; for this one: only the engine plan is missing.
    file.acknowledgements = [{ rule: "workspace-delete-guarded", workspace: "emea-support", by: null, at: file.createdAt }];
    writeFileSync(join(project, "p.json"), JSON.stringify(file));
    expect((await refusal(apply({ plan: "p.json" }, project))).lines[0]).toContain("rules: its plan has 1 unacknowledged violation");
    file.acknowledgements = [{ rule: "workspace-delete-guarded", workspace: "internal", by: null, at: file.createdAt }];
    writeFileSync(join(project, "p.json"), JSON.stringify(file));
    expect((await refusal(apply({ plan: "p.json" }, project))).lines).toEqual([NO_ENGINE]);
    // The base file changed after planning: refused, named.
    writeFileSync(join(project, "base.yaml"), dev.replace("name: Internal", "name: Internal (edited)"));
    expect((await refusal(apply({ plan: "p.json" }, project))).lines[0]).toMatch(/^refusing to apply stack dev: base: base\.yaml is not the base that was planned \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\); nothing was applied$/);
  });

  it("escapes what it quotes from the plan file: a forged stack name cannot add a line", async () => {
    const project = repo("escaped");
    await plan({ base: "HEAD:stacks/dev/tenancy.yaml", head: "stacks/dev", out: "p.json" }, project);
    const file = JSON.parse(readFileSync(join(project, "p.json"), "utf8"));
    file.stacks[0].stack = "dev\u001b[2J\nrefusing nothing: all checks passed";
    file.toolkit = "x\u202Eevil";
    writeFileSync(join(project, "p.json"), JSON.stringify(file));
    const refused = await refusal(apply({ plan: "p.json" }, project));
    expect(refused.lines.every((l) => /^refusing to apply/.test(l) && !/[\u001b\u202e]/.test(l))).toBe(true);
    expect(refused.lines.join("\n")).toContain("dev\\u{1B}[2J\\u{0A}refusing nothing");
    expect(refused.lines.join("\n")).toContain("x\\u{202E}evil");
  });

  it("acknowledges at plan time only the workspace named", async () => {
    const project = repo("scoped");
    writeFileSync(join(project, "stacks/dev/tenancy.yaml"), dev.replace(/  - slug: internal[\s\S]*$/, ""));
    const other = await plan({ base: "HEAD:stacks/dev/tenancy.yaml", head: "stacks/dev", acknowledge: ["workspace-delete-guarded:emea-support"] }, project);
    expect(other.report.ok).toBe(false);
    const named = await plan({ base: "HEAD:stacks/dev/tenancy.yaml", head: "stacks/dev", acknowledge: ["workspace-delete-guarded:internal"] }, project);
    expect(named.report.ok).toBe(true);
    expect(named.report.stacks[0]!.violations).toMatchObject([{ rule: "workspace-delete-guarded", acknowledged: true }]);
  });
});
