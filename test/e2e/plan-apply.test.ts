// Reviewed == applied, on the real engine and a real PostgreSQL, on a stack WITH integrations, in
// a throwaway git clone of the toolkit (so the test can commit and change code): a plan file binds
// commits, code, declaration, stack config, versions, the stack and its state; `tenancy apply
// --plan` applies the reviewed plan (a credential rotation included) and leaves nothing to
// change, and refuses every tampered, stale, foreign or expired plan with exit 1 before any
// engine run, the database (its catalogs and rows, by this test's own SQL) and the backend
// (`stack ls`, the backend folder) unchanged. Last, an apply killed mid-run converges after the
// documented recovery and a new plan.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, symlink, writeFile, appendFile, stat, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apply } from "../../cli/apply.ts";
import { DEMO_PASSPHRASE, runPulumi, setSecretConfig } from "../../cli/engine.ts";
import { ExitError } from "../../cli/errors.ts";
import { plan } from "../../cli/plan.ts";
import { stateVersion } from "../../cli/plan-facts.ts";
import { createHarness, root, type Harness } from "./harness.ts";
import { engineOf, killSeed, seeded, settle, type Settled } from "./interrupt-harness.ts";

const run = promisify(execFile);

const v0 = `version: 1
organization:
  slug: reviewed
  name: Reviewed Co
  billing: { mode: rollup, plan: agency, creditPool: { monthlyAllowance: 1000 } }
  roles: { admin: [workspaces.manage, members.manage, integrations.manage], editor: [agents.manage] }
  people:
    - { email: ana@reviewed.test, orgRole: admin }
    - { email: ben@reviewed.test }
    - { email: cy@reviewed.test }
    - { email: di@reviewed.test }
    - { email: ed@reviewed.test }
workspaces:
  - slug: alpha
    name: Alpha
    members:
      - { email: ana@reviewed.test, role: admin }
      - { email: ben@reviewed.test, role: editor }
    integrations:
      - { slug: slack, provider: slack, credentialsSecret: alphaSlackToken }
  - slug: beta
    name: Beta
    members:
      - { email: ana@reviewed.test, role: admin }
      - { email: cy@reviewed.test, role: editor }
      - { email: di@reviewed.test, role: editor }
      - { email: ed@reviewed.test, role: editor }
    integrations:
      - { slug: hubspot, provider: hubspot, credentialsSecret: betaHubspotToken }
`;
const reviewed = v0.replace("{ email: ben@reviewed.test, role: editor }", "{ email: ben@reviewed.test, role: admin }");
const renamed = reviewed.replace("    name: Alpha\n", "    name: Alpha Two\n");
const cyAdmin = reviewed.replace("{ email: cy@reviewed.test, role: editor }", "{ email: cy@reviewed.test, role: admin }");
const massRemoval = reviewed.replace(/      - \{ email: (cy|di|ed)@reviewed\.test, role: editor \}\n/g, "");
const withGamma = `${cyAdmin}  - slug: gamma
    name: Gamma
    members:
      - { email: ana@reviewed.test, role: admin }
    integrations:
      - { slug: drive, provider: google-drive, credentialsSecret: gammaDriveToken }
      - { slug: slack, provider: slack, credentialsSecret: gammaSlackToken }
`;

const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a refusal"); }, (e: unknown) => {
  if (!(e instanceof ExitError)) throw e;
  return { code: e.exitCode, lines: e.message.split("\n") };
});

// Each step runs the engine (preview, up) on a 2-core machine shared with other work: minutes.
describe("tenancy plan --out / tenancy apply --plan on the real engine, a stack with integrations", { timeout: 30 * 60_000 }, () => {
  let h: Harness;
  let dir: string;
  let project: string;
  let backendUrl: string;
  let stateDir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tenancy-plan-apply-"));
    // A clone of this toolkit's committed tree: the test commits in it and edits its code.
    project = join(dir, "project");
    await run("git", ["clone", "--quiet", "--no-hardlinks", root, project]);
    await run("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "base"]);
    await symlink(join(root, "node_modules"), join(project, "node_modules"));
    h = await createHarness("plan-apply", v0, project);
    expect((await h.stack.up()).summary.result).toBe("succeeded");
    await writeFile(join(dir, "base.yaml"), v0);
    stateDir = dirname(h.declaration); // the harness keeps its state beside the declaration
    backendUrl = `file://${stateDir}`;
  });
  afterAll(async () => {
    await h?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const memberships = async () =>
    (await h.query<{ m: string }>("SELECT workspace_slug || ' ' || email || ' ' || role AS m FROM tenancy_control.memberships WHERE organization_slug = 'reviewed' ORDER BY 1")).map((r) => r.m);
  const workspaceNames = async () =>
    (await h.query<{ n: string }>("SELECT name AS n FROM tenancy_control.workspaces WHERE organization_slug = 'reviewed' ORDER BY 1")).map((r) => r.n);
  /** Each workspace's credential rows (read as its owner role, as the provider writes them). */
  const credentialRows = async (workspaces = ["alpha", "beta"]) => {
    const out: string[] = [];
    for (const ws of workspaces) {
      await h.query(`SET ROLE "reviewed__${ws}__owner"`);
      try {
        const rows = await h.query<{ r: string }>(`SELECT slug || ' ' || key_id || ' ' || encode(nonce, 'hex') || ' ' || encode(ciphertext, 'hex') AS r FROM "reviewed__${ws}".integration_credentials ORDER BY slug`);
        out.push(...rows.map((r) => `${ws} ${r.r}`));
      } finally {
        await h.query("RESET ROLE");
      }
    }
    return out;
  };
  /** The catalogs a tenancy writes: roles and schemas of the organization, their grants. */
  const catalogs = async () =>
    (await h.query<{ x: string }>(`SELECT 'role ' || rolname AS x FROM pg_roles WHERE rolname LIKE 'reviewed\\_\\_%'
      UNION ALL SELECT 'schema ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname LIKE 'reviewed\\_\\_%' ORDER BY 1`)).map((r) => r.x);
  const database = async () => ({ memberships: await memberships(), names: await workspaceNames(), credentials: await credentialRows(), catalogs: await catalogs() });
  const backendFolder = async () => {
    const walk = async (d: string): Promise<string[]> => (await Promise.all((await readdir(d, { withFileTypes: true }).catch(() => []))
      .map(async (e) => (e.isDirectory() ? walk(join(d, e.name)) : [`${join(d, e.name).slice(stateDir.length)} ${(await stat(join(d, e.name))).mtimeMs}`])))).flat();
    return (await walk(join(stateDir, ".pulumi"))).sort();
  };
  const stackLs = async () => (await h.stack.workspace.listStacks()).map((s) => s.name).sort();
  const makePlan = (out: string, extra: Record<string, unknown> = {}) =>
    plan({ base: join(dir, "base.yaml"), head: h.declaration, stack: h.stack.name, out: join(dir, out), engine: true, backendUrl, ...extra }, project);
  const applyPlan = (file: string, extra: Record<string, unknown> = {}) => apply({ plan: join(dir, file), backendUrl, ...extra }, project);
  const readPlan = async (file: string) => JSON.parse(await readFile(join(dir, file), "utf8"));
  const writePlan = (file: string, json: unknown) => writeFile(join(dir, file), JSON.stringify(json));

  /** Runs a refused apply and checks that neither the database nor the backend changed. */
  const refused = async (file: string, extra: Record<string, unknown> = {}) => {
    const before = { db: await database(), stacks: await stackLs(), folder: await backendFolder() };
    const r = await refusal(applyPlan(file, extra));
    expect(r.code).toBe(1);
    expect(r.lines.every((l) => l.startsWith("refusing to apply") && l.endsWith("; nothing was applied"))).toBe(true);
    expect({ db: await database(), stacks: await stackLs(), folder: await backendFolder() }).toEqual(before);
    return r.lines;
  };

  let credentialsAtStart: string[];

  it("applies a reviewed plan (a member promoted, a credential rotated), held to the update plan; nothing left to change", async () => {
    credentialsAtStart = await credentialRows();
    expect(credentialsAtStart).toHaveLength(2);
    await setSecretConfig(h.stack, { "credentials:alphaSlackToken": "xoxb-rotated-for-review" });
    await h.writeDeclaration(reviewed);
    const made = await makePlan("reviewed.json", { acknowledgedBy: "reviewer@reviewed.test" });
    expect(made.report.ok).toBe(true);
    const text = await readFile(join(dir, "reviewed.json"), "utf8");
    const file = JSON.parse(text);
    expect(file).toMatchObject({ version: 2, commits: { head: expect.stringMatching(/^[0-9a-f]{40}$/) }, code: expect.stringMatching(/^[0-9a-f]{64}$/), engine: { pulumi: expect.any(String) } });
    expect(file.stacks[0]).toMatchObject({ target: { backend: `${backendUrl}`, project: "tenancy", stack: h.stack.name }, state: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(file.stacks[0].updatePlan).toBeTypeOf("object");
    for (const secret of [h.server.password, DEMO_PASSPHRASE, "xoxb-rotated-for-review"]) expect(text).not.toContain(secret);

    const applied = await applyPlan("reviewed.json");
    expect(applied).toMatchObject([{ stack: h.stack.name, heldToUpdatePlan: true, checkpointsSkipped: false }]);
    expect(await memberships()).toContain("alpha ben@reviewed.test admin");
    const after = await credentialRows();
    // The rotated credential was sealed anew; the other row is untouched, byte for byte.
    expect(after.find((r) => r.startsWith("alpha slack"))).not.toBe(credentialsAtStart.find((r) => r.startsWith("alpha slack")));
    expect(after.find((r) => r.startsWith("beta hubspot"))).toBe(credentialsAtStart.find((r) => r.startsWith("beta hubspot")));
    expect(await h.plannedChanges()).toEqual([]);
  });

  it("keeps the state version a plan binds across a run that changes nothing", async () => {
    const before = await stateVersion(h.stack);
    const rows = await credentialRows();
    const exported = async () => new Map(((await h.stack.exportStack()).deployment.resources as { urn: string }[]).map((r) => [r.urn, JSON.stringify(r)]));
    const resourcesBefore = await exported();
    const up = await h.stack.up();
    expect(up.summary.resourceChanges).toEqual({ same: expect.any(Number) });
    const resourcesAfter = await exported();
    // Which resource changed, if one did (a failure here says what to mask or sort).
    for (const [urn, text] of resourcesAfter) if (resourcesBefore.get(urn) !== text) console.log(`plan-apply state: ${urn}\n  before ${resourcesBefore.get(urn)}\n  after  ${text}`);
    expect(await stateVersion(h.stack)).toEqual(before);
    expect(await credentialRows()).toEqual(rows);
  });

  it("refuses an expired plan, a moved head, changed code and changed stack config, each naming its check", async () => {
    await h.writeDeclaration(renamed);
    await makePlan("renamed.json");
    expect(await refused("renamed.json", { now: new Date(Date.now() + 8 * 24 * 3600_000) })).toEqual([
      expect.stringMatching(/^refusing to apply: expiry: the plan expired at \S+ \(made \S+\); plan again; nothing was applied$/),
    ]);

    await run("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "after review"]);
    const head = await refused("renamed.json");
    await run("git", ["-C", project, "reset", "--quiet", "--soft", "HEAD~1"]);
    expect(head).toEqual([expect.stringMatching(/^refusing to apply: head commit: planned at [0-9a-f]{40}, the work tree is at [0-9a-f]{40}; plan again; nothing was applied$/)]);

    await appendFile(join(project, "index.ts"), "\n// changed after review\n");
    const code = await refused("renamed.json");
    await run("git", ["-C", project, "checkout", "--quiet", "--", "index.ts"]);
    expect(code).toEqual([expect.stringMatching(/^refusing to apply: code: the toolkit's tracked files \(outside stacks\/\) changed since planning/)]);

    const configFile = join(project, "stacks", `Pulumi.${h.stack.name}.yaml`);
    const configBytes = await readFile(configFile);
    await h.stack.setConfig("tenancy:note", { value: "changed after review" });
    const config = await refused("renamed.json");
    await writeFile(configFile, configBytes);
    expect(config).toEqual([expect.stringContaining(`refusing to apply stack ${h.stack.name}: stack config stacks/Pulumi.${h.stack.name}.yaml changed since it was planned`)]);
  });

  it("refuses a plan whose engine plan was deleted after the declaration was changed and its digest forged", async () => {
    const forged = await readPlan("renamed.json");
    const tampered = renamed.replace("    name: Beta\n", "    name: Beta (not reviewed)\n");
    await h.writeDeclaration(tampered);
    const { createHash } = await import("node:crypto");
    forged.stacks[0].declaration.sha256 = createHash("sha256").update(tampered).digest("hex");
    delete forged.stacks[0].updatePlan;
    await writePlan("forged.json", forged);
    const lines = await refused("forged.json");
    await h.writeDeclaration(renamed);
    expect(lines).toEqual([`refusing to apply stack ${h.stack.name}: engine plan: the plan file holds no Pulumi update plan for it; plan with --engine; nothing was applied`]);
  });

  it("refuses a foreign plan: another stack name, another backend; no stack is created", async () => {
    const other = await readPlan("renamed.json");
    other.stacks[0].stack = "e2e-never-created";
    other.stacks[0].target.stack = "e2e-never-created";
    other.stacks[0].stackConfig = { path: "stacks/Pulumi.e2e-never-created.yaml", sha256: null };
    await writePlan("foreign.json", other);
    expect(await refused("foreign.json")).toEqual([
      `refusing to apply stack e2e-never-created: foreign stack: no stack e2e-never-created in ${backendUrl} (apply never creates one); nothing was applied`,
    ]);
    expect(await stackLs()).toEqual([h.stack.name]);

    // Another engine than the one that made the update plan.
    const otherEngine = await readPlan("renamed.json");
    otherEngine.engine.pulumi = "3.0.0";
    await writePlan("other-engine.json", otherEngine);
    expect(await refused("other-engine.json")).toEqual([
      expect.stringMatching(new RegExp(`^refusing to apply stack ${h.stack.name}: engine version: planned with pulumi 3\\.0\\.0 / language host \\S+, this is \\S+ / \\S+; plan again; nothing was applied$`)),
    ]);

    // Planning with --engine never creates a stack either.
    const folder = await backendFolder();
    const planOfNone = await refusal(plan({ base: join(dir, "base.yaml"), head: h.declaration, stack: "e2e-never-created", out: join(dir, "none.json"), engine: true, backendUrl }, project));
    expect(planOfNone).toEqual({ code: 2, lines: [`cannot plan stack e2e-never-created: it does not exist in ${backendUrl} (create it by hand first: pulumi stack init)`] });
    expect(await stackLs()).toEqual([h.stack.name]);
    expect(await backendFolder()).toEqual(folder);

    const elsewhere = await mkdtemp(join(tmpdir(), "tenancy-plan-apply-other-"));
    try {
      expect(await refused("renamed.json", { backendUrl: `file://${elsewhere}` })).toEqual([
        `refusing to apply stack ${h.stack.name}: foreign stack: planned in backend ${backendUrl}, this is file://${elsewhere}; nothing was applied`,
      ]);
      expect(await readdir(elsewhere)).toEqual([]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("refuses a blocked mass removal whose verdict was flipped and given another plan's engine plan: apply runs the rules itself", async () => {
    await h.writeDeclaration(massRemoval);
    const loose = await makePlan("loose.json", { maxRemovalShare: 1 });
    expect(loose.report.ok).toBe(true);
    const blocked = await plan({ base: join(dir, "base.yaml"), head: h.declaration, stack: h.stack.name, out: join(dir, "blocked.json") }, project);
    expect(blocked.report.ok).toBe(false);
    const flipped = await readPlan("blocked.json");
    const donor = (await readPlan("loose.json")).stacks[0];
    Object.assign(flipped.stacks[0], { ok: true, updatePlan: donor.updatePlan, target: donor.target, state: donor.state });
    flipped.engine = (await readPlan("loose.json")).engine;
    await writePlan("flipped.json", flipped);
    expect(await refused("flipped.json")).toEqual([
      expect.stringMatching(new RegExp(`^refusing to apply stack ${h.stack.name}: rules: its plan has 1 unacknowledged violation \\(first: mass-removal-guarded at `)),
    ]);
    // An acknowledgement for another workspace does not cover it either.
    flipped.acknowledgements = [{ rule: "mass-removal-guarded", workspace: "alpha", by: null, at: flipped.createdAt }];
    await writePlan("flipped.json", flipped);
    expect((await refused("flipped.json"))[0]).toContain("mass-removal-guarded");
    await h.writeDeclaration(renamed);
  });

  it("refuses a stale plan: after a newer plan was applied, an older one must not demote an admin", async () => {
    // renamed.json (older) keeps cy an editor; a newer reviewed change makes cy admin and is applied first.
    await h.writeDeclaration(cyAdmin);
    await makePlan("newer.json");
    await applyPlan("newer.json");
    expect(await memberships()).toContain("beta cy@reviewed.test admin");
    // The older plan's own tree is checked out again, as a pipeline re-running its job would.
    await h.writeDeclaration(renamed);
    const lines = await refused("renamed.json");
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^refusing to apply stack ${h.stack.name}: stale: the stack's state changed since planning`))]);
    expect(await memberships()).toContain("beta cy@reviewed.test admin");
    expect(await workspaceNames()).toEqual(["Alpha", "Beta"]);
    await h.writeDeclaration(cyAdmin);
  });

  it("converges after an apply of a reviewed plan is killed mid-run: the old plan is stale, recovery, a new plan applies", async () => {
    const seed = killSeed();
    const at = 1 + Math.floor(seeded(seed)() * 3);
    console.log(`plan-apply kill: TENANCY_KILL_SEED=${seed}, kill at output chunk ${at} with a create`);
    await h.writeDeclaration(withGamma);
    await setSecretConfig(h.stack, { "credentials:gammaDriveToken": "gamma-drive-credential", "credentials:gammaSlackToken": "xoxb-gamma-credential" });
    await makePlan("gamma.json");
    let seen = 0;
    let killed: Promise<Settled> | undefined;
    const outcome = await apply({ plan: join(dir, "gamma.json"), backendUrl }, project, (line) => {
      if (!line.startsWith("tenancy:") && /creat/i.test(line)) seen++; // engine output, not apply's own lines
      if (seen >= at && !killed) {
        killed = (async () => {
          const found = engineOf(h.stack.name);
          process.kill(found.engine.pid, "SIGKILL");
          return settle(found);
        })();
      }
    }).then(() => "applied", (e: unknown) => e);
    const settled = killed ? await killed : undefined;
    expect(settled?.strays ?? [], "processes of the killed engine still running").toEqual([]);
    console.log(`plan-apply kill: interrupted=${killed !== undefined}, apply ${outcome instanceof Error ? `failed: ${outcome.message}` : outcome}`);
    if (killed) {
      expect(outcome).toBeInstanceOf(ExitError);
      // Recovery as README.md's "Interrupted applies" says: empty metadata, the dead lock, pending operations.
      const walk = async (d: string): Promise<string[]> => (await Promise.all((await readdir(d, { withFileTypes: true })).map((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)])))).flat();
      for (const f of await walk(join(stateDir, ".pulumi"))) if (f.endsWith(".attrs") && (await stat(f)).size === 0) await unlink(f);
      await runPulumi(h.stack, ["cancel", "--yes"]).catch(() => "");
      await runPulumi(h.stack, ["refresh", "--clear-pending-creates", "--yes", "--skip-preview"]);
      // A killed run that wrote any state makes its plan stale; one that wrote none leaves it valid.
      const again = await applyPlan("gamma.json").then(() => undefined, (e: unknown) => e);
      console.log(`plan-apply kill: the killed plan ${again === undefined ? "applied (no state was written before the kill)" : `was refused: ${(again as Error).message}`}`);
      if (again !== undefined) {
        expect(again).toBeInstanceOf(ExitError);
        expect((again as ExitError).exitCode).toBe(1);
        expect((again as ExitError).message).toMatch(/stale: the stack's state changed since planning/);
        await makePlan("gamma-again.json");
        expect(await applyPlan("gamma-again.json")).toMatchObject([{ heldToUpdatePlan: true }]);
      }
    }
    expect(await workspaceNames()).toEqual(["Alpha", "Beta", "Gamma"]);
    expect((await credentialRows(["gamma"])).map((r) => r.split(" ").slice(0, 2).join(" "))).toEqual(["gamma drive", "gamma slack"]);
    expect(await h.plannedChanges()).toEqual([]);
  });
});
