// `tenancy plan` through the command line: golden markdown and JSON for every kind of change,
// the JSON against its committed schema, exit codes, git sides, and the comment-size cap.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Ajv } from "ajv";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { ChangeKind, PLAN_JSON_SCHEMA_FILE, planJsonSchema } from "../../policies/plan/report.ts";

const root = join(import.meta.dirname, "../..");
const fixtures = "test/fixtures/plan";
const TOKEN = "xoxb-2501234567-8012345678901-AbCdEfGhIjKlMnOpQrStUvWx";

async function run(cwd: string, ...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
  const code = await main(argv, { cwd, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

const pair = (name: string) => ["--base", `${fixtures}/${name}.base.yaml`, "--head", `${fixtures}/${name}.head.yaml`, "--stack", name];
const schema = JSON.parse(readFileSync(join(root, PLAN_JSON_SCHEMA_FILE), "utf8"));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function expectValidJson(stdout: string) {
  const report = JSON.parse(stdout);
  expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  return report;
}

describe("tenancy plan: golden output", { timeout: 120_000 }, () => {
  it("renders every everyday change as markdown, risks first, an acknowledged guard marked", async () => {
    const result = await run(root, "plan", ...pair("everyday"), "--format", "markdown", "--acknowledge", "workspace-delete-guarded");
    expect(result.code).toBe(1); // the literal credential is not a guard: it still fails
    await expect(result.stdout).toMatchFileSnapshot("__snapshots__/plan.everyday.md");
    expect(result.stdout.indexOf("**Risks**")).toBeLessThan(result.stdout.indexOf("<details>"));
  });

  it("renders the everyday change as JSON matching the committed schema", async () => {
    const result = await run(root, "plan", ...pair("everyday"), "--format", "json");
    expect(result.code).toBe(1);
    const report = expectValidJson(result.stdout);
    expect(report.summary).toEqual({
      stacks: 1, changedStacks: 1, changes: 33, risks: { irreversible: 2, admin: 3, boundary: 4 }, violations: 2, acknowledged: 0,
    });
    await expect(result.stdout).toMatchFileSnapshot("__snapshots__/plan.everyday.json");
  });

  it("renders billing and membership mode changes, workspace plans and pools", async () => {
    const md = await run(root, "plan", ...pair("modes"), "--format", "markdown");
    expect(md.code).toBe(0);
    await expect(md.stdout).toMatchFileSnapshot("__snapshots__/plan.modes.md");
    const json = await run(root, "plan", ...pair("modes"), "--format", "json");
    expectValidJson(json.stdout);
    await expect(json.stdout).toMatchFileSnapshot("__snapshots__/plan.modes.json");
  });

  it("renders a new stack and a removed stack", async () => {
    const created = await run(root, "plan", "--base", "stacks/nowhere/tenancy.yaml", "--head", "stacks/dev", "--format", "json");
    expect(created.code).toBe(0);
    const report = expectValidJson(created.stdout);
    expect(report.stacks[0]).toMatchObject({ stack: "dev", status: "created", base: null });
    await expect(created.stdout).toMatchFileSnapshot("__snapshots__/plan.created.json");

    const removed = await run(root, "plan", "--base", "stacks/dev", "--head", "stacks/nowhere/tenancy.yaml", "--stack", "dev", "--format", "markdown");
    expect(removed.code).toBe(1);
    await expect(removed.stdout).toMatchFileSnapshot("__snapshots__/plan.removed.md");
  });

  it("covers every kind of change across the golden outputs", async () => {
    const kinds = new Set<string>();
    for (const args of [pair("everyday"), pair("modes"), ["--head", "stacks/dev"], ["--base", "stacks/dev", "--head", "stacks/nowhere/tenancy.yaml", "--stack", "dev"]]) {
      const report = JSON.parse((await run(root, "plan", ...args, "--format", "json")).stdout);
      for (const change of report.stacks[0].changes) kinds.add(change.kind);
    }
    expect([...kinds].sort()).toEqual(Object.values(ChangeKind).sort());
  });

  it("renders text for terminals", async () => {
    const result = await run(root, "plan", ...pair("modes"));
    expect(result.stdout).toMatchSnapshot();
  });

  it("never prints a literal credential, in any format", async () => {
    for (const format of ["text", "markdown", "json"]) {
      const result = await run(root, "plan", ...pair("everyday"), "--format", format);
      expect(result.stdout).not.toContain("xoxb-2501234567");
      expect(result.stdout).not.toContain(TOKEN.slice(-12));
    }
  });
});

describe("tenancy plan: JSON Schema", () => {
  it("matches the committed schema (run `npm run schema:write` after changing policies/plan/report.ts)", () => {
    expect(readFileSync(join(root, PLAN_JSON_SCHEMA_FILE), "utf8")).toBe(planJsonSchema());
  });

  it("rejects a report that breaks the documented shape", () => {
    expect(validate({ version: 1, ok: true, summary: {}, stacks: [] })).toBe(false);
  });
});

describe("tenancy plan: exit codes and usage", { timeout: 120_000 }, () => {
  it("exits 0 on an unchanged stack, saying so", async () => {
    const result = await run(root, "plan", "--base", "stacks/dev", "--head", "stacks/dev/tenancy.yaml");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("== dev: unchanged");
  });

  it("exits 2 when neither side exists, on an unknown ref, and on acknowledging a rule that is no guard", async () => {
    const none = await run(root, "plan", "--base", "a.yaml", "--head", "b.yaml");
    expect(none).toMatchObject({ code: 2, stderr: "tenancy: neither a.yaml nor b.yaml exists\n" });
    const ref = await run(root, "plan", "--base", "no-such-ref-xyz:stacks/dev/tenancy.yaml", "--head", "stacks/dev");
    expect(ref.code).toBe(2);
    expect(ref.stderr).toContain('unknown git ref "no-such-ref-xyz"');
    const ack = await run(root, "plan", ...pair("modes"), "--acknowledge", "workspace-has-admin");
    expect(ack.code).toBe(2);
    expect(ack.stderr).toContain("only guards can be acknowledged: workspace-delete-guarded, mass-removal-guarded, admin-removal-guarded");
    expect((await run(root, "plan", "--base-ref", "HEAD", ...pair("modes"))).code).toBe(2);
    expect((await run(root, "plan", ...pair("modes"), "--max-removal-share", "2")).code).toBe(2);
    expect((await run(root, "plan", ...pair("modes"), "--max-chars", "lots")).code).toBe(2);
  });

  it("exits 1 on an unacknowledged guard and 0 once it is acknowledged", async () => {
    const args = ["--base", "test/fixtures/rules/workspace-delete-guarded.fires.base.yaml", "--head", "test/fixtures/rules/workspace-delete-guarded.fires.head.yaml"];
    expect((await run(root, "plan", ...args)).code).toBe(1);
    const acknowledged = await run(root, "plan", ...args, "--acknowledge", "workspace-delete-guarded", "--format", "json");
    expect(acknowledged.code).toBe(0);
    expect(JSON.parse(acknowledged.stdout).stacks[0].violations).toMatchObject([{ rule: "workspace-delete-guarded", acknowledged: true }]);
  });

  it("reports a head that is not YAML as a violation, not as a removed stack", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenancy-plan-"));
    writeFileSync(join(dir, "broken.yaml"), "version: 1\norganization: [\n");
    const result = await run(root, "plan", "--base", "stacks/dev", "--head", join(dir, "broken.yaml"), "--format", "json");
    rmSync(dir, { recursive: true });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.stacks[0]).toMatchObject({ status: "changed", changes: [], risks: [] });
    expect(report.stacks[0].violations[0].rule).toBe("yaml");
  });
});

describe("tenancy plan --base-ref", { timeout: 120_000 }, () => {
  const repo = mkdtempSync(join(tmpdir(), "tenancy-plan-git-"));
  afterAll(() => rmSync(repo, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.test", ...args], { cwd: repo, encoding: "utf8" });

  it("plans every stack that differs from the ref, lists unchanged ones, and reads REF:path sides", async () => {
    git("init", "-q", "-b", "main");
    for (const stack of ["dev", "agency"]) cpSync(join(root, "stacks", stack), join(repo, "stacks", stack), { recursive: true });
    cpSync(join(root, "stacks/dev"), join(repo, "stacks/gone"), { recursive: true });
    git("add", "."); git("commit", "-q", "-m", "base");
    const dev = join(repo, "stacks/dev/tenancy.yaml");
    writeFileSync(dev, readFileSync(dev, "utf8").replace("{ email: chloe@acme.test, role: editor }", "{ email: chloe@acme.test, role: admin }"));
    rmSync(join(repo, "stacks/gone"), { recursive: true });
    cpSync(join(root, "stacks/agency"), join(repo, "stacks/fresh"), { recursive: true });

    const result = await run(repo, "plan", "--base-ref", "main", "--format", "json");
    const report = expectValidJson(result.stdout);
    // Most dangerous first: the failing removal, then admin changes, unchanged last.
    expect(report.stacks.map((s: { stack: string; status: string }) => `${s.stack} ${s.status}`)).toEqual([
      "gone removed", "dev changed", "fresh created", "agency unchanged",
    ]);
    expect(report.stacks[1].risks).toEqual([
      { kind: "admin", workspace: "us-sales", summary: "Chloé Martin (chloe@acme.test) becomes admin of US Sales (us-sales)" },
    ]);
    expect(report.stacks[1].base.source).toBe("main:stacks/dev/tenancy.yaml");
    // The removed stack still had workspaces: blocked, pointing into the base.
    expect(report.stacks[0].violations.map((v: { rule: string; file: string }) => `${v.rule} ${v.file}`)).toContain(
      "organization-delete-blocked main:stacks/gone/tenancy.yaml",
    );
    expect(result.code).toBe(1);

    const side = await run(repo, "plan", "--base", "main:stacks/dev", "--head", "stacks/dev", "--format", "json");
    expect(JSON.parse(side.stdout).stacks[0]).toMatchObject({ stack: "dev", status: "changed", base: { source: "main:stacks/dev/tenancy.yaml" } });
  });
});
