// Issue 8, item 1: a hostile workspace against every path where the toolkit acts in its schema
// (create, adopt, read/refresh, update, decommission, destroy). The app role (a real login with
// the password from the stack outputs) plants triggers, views, policies, rules, expression
// functions, built-in look-alikes and decommissioning traps; after every engine operation an
// independent catalog check (attack-catalog.ts, its own SQL, run as the superuser) and the
// canary in the server log (attack-plant.ts) must show that planted code never ran and that no
// role of any workspace holds anything outside it.
//
// Two outcomes are accepted per attack and path: the operation REFUSES (it fails and the error
// names the planted object as `schema.object`), or it SUCCEEDS WITHOUT RUNNING planted code.
// Design-agnostic on purpose: only the real stack program through the engine, only outcomes.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundaryOf, catalogFacts, frozenChanges, outsideFindings, type Boundary, type Sql } from "./attack-catalog.ts";
import { attackerBase, readCanary, shadowBuiltins, type CanaryEntry } from "./attack-plant.ts";
import { credentialsPlantings, credentialsShape, deniedPlantings, decommissionTraps, eventFunction, existingTableAttempts, scrub, type Shape } from "./attack-cases.ts";
import { appPasswords, attempt, declaration, serverOf, type Server } from "./attack-harness.ts";
import { createHarness, type Harness } from "./harness.ts";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";

const ORG = "acme";
const SLUGS = ["alpha", "bravo", "charlie"] as const;
const B: Record<string, Boundary> = Object.fromEntries(SLUGS.map((s) => [s, boundaryOf(ORG, s)]));
const BOUNDARIES = Object.values(B);
const ALPHA_DRIVE: [string, string, string] = ["drive", "google-drive", "alphaDriveOauth"];
const BRAVO_SLACK: [string, string, string] = ["slack", "slack", "bravoSlackToken"];

function decl(o: { alpha?: boolean; workspaces?: readonly string[]; decommissioned?: readonly string[]; members?: Record<string, Record<string, string>> } = {}): string {
  return declaration({
    org: ORG, workspaces: o.workspaces ?? SLUGS,
    integrations: { bravo: [BRAVO_SLACK], ...(o.alpha ? { alpha: [ALPHA_DRIVE] } : {}) },
    ...(o.decommissioned ? { decommissioned: o.decommissioned } : {}),
    ...(o.members ? { members: o.members } : {}),
  });
}

interface Live { readonly attack: string; readonly prefix: string; readonly objects: readonly string[] }
type Outcome = "denied when planted" | "refused" | "neutralised" | "breached";

describe("a hostile workspace against every path the toolkit acts in its schema", () => {
  let h: Harness;
  let server: Server;
  let sql: Sql;
  let database: string;
  let shape: Shape;
  let present: string[] = [...SLUGS];
  const apps: Record<string, pg.Client> = {};
  const standing: Live[] = [];
  const outcomes: { attack: string; path: string; outcome: Outcome }[] = [];
  let knownRoles = new Set<string>();
  let pgTempSession: pg.Client | undefined;
  const ctx = (slug: string) => ({ self: B[slug]!, others: BOUNDARIES.filter((b) => b.slug !== slug), database, shape });

  async function login(slug: string): Promise<pg.Client> {
    const passwords = await appPasswords(h);
    return server.login(B[slug]!.app, passwords[slug]!);
  }

  /** Runs `statements` as the app of `slug`; a denial (42501, 42P07) stops the planting. */
  async function plant(slug: string, attack: string, statements: string[]): Promise<boolean> {
    for (const statement of statements) {
      try {
        await apps[slug]!.query(statement);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== "42501" && code !== "42P07") throw new Error(`planting ${attack} failed (${code}): ${(error as Error).message}\n${statement.slice(0, 300)}`);
        outcomes.push({ attack, path: "planting", outcome: "denied when planted" });
        return false;
      }
    }
    return true;
  }

  function canaryProblems(path: string, entries: CanaryEntry[]): string[] {
    const ran = new Map<string, number>();
    const gained = new Set<string>();
    for (const e of entries) {
      const g = e.label.indexOf(":gained: ");
      if (g >= 0) gained.add(`${path}: planted code escalated as ${e.current_user}: ${e.label.slice(g + 9)}`);
      else {
        const key = `${path}: planted code ran as ${e.current_user} (session ${e.session_user}): ${e.label}`;
        ran.set(key, (ran.get(key) ?? 0) + 1);
      }
    }
    return [...[...ran].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)), ...[...gained].slice(0, 12), ...(gained.size > 12 ? [`${path}: ... ${gained.size - 12} more escalations`] : [])];
  }

  /**
   * One engine operation, judged: planted code never ran, every role stays inside its workspace,
   * workspaces not `changing` (and the admin, and everything global) are unchanged, nothing was
   * stolen, and a failure names a planted object. Returns the problems (empty when it held).
   */
  async function op(path: string, live: readonly Live[], changing: readonly string[], run: () => Promise<unknown>, removing: readonly string[] = []): Promise<string[]> {
    const before = await catalogFacts(sql);
    const mark = (await readCanary(server.logFile, 0)).end;
    let error: string | undefined;
    try {
      await run();
    } catch (e) {
      error = String((e as Error).message ?? e);
    }
    const { entries } = await readCanary(server.logFile, mark);
    const after = await catalogFacts(sql);
    const problems = canaryProblems(path, entries);
    const all = [...standing, ...live];
    if (error !== undefined && !all.some((l) => l.objects.some((o) => error!.includes(o)))) {
      const lines = error.split("\n").filter((l) => /error|refus|denied/i.test(l)).slice(0, 4).join(" | ");
      problems.push(`${path}: the operation failed without naming a planted object as schema.object: ${lines || error.slice(0, 400)}`);
    }
    present = present.filter((s) => !removing.includes(s));
    for (const slug of present) for (const f of await outsideFindings(sql, B[slug]!, database)) problems.push(`${path}: ${f}`);
    const frozen = new Set(["global", ...SLUGS.filter((s) => !changing.includes(s) && !removing.includes(s))]);
    for (const c of frozenChanges(before, after, BOUNDARIES, frozen)) problems.push(`${path}: changed outside the workspaces it may change: ${c}`);
    const structural = (f: string) => f.startsWith("role ") || f.startsWith("membership ");
    const inside = new Set(changing.filter((s) => !removing.includes(s)));
    for (const c of frozenChanges(before.filter(structural), after.filter(structural), BOUNDARIES, inside)) problems.push(`${path}: a workspace's roles changed: ${c}`);
    for (const slug of present) {
      const [row] = await sql<{ n: number }>(`SELECT CASE WHEN to_regclass($1) IS NULL THEN 0 ELSE (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM ' || $1, false, false, '')))[1]::text::int END AS n`, [`${B[slug]!.schema}.attack_loot`]);
      if (row && row.n > 0) problems.push(`${path}: ${row.n} rows stolen into ${B[slug]!.schema}.attack_loot`);
    }
    for (const l of all) {
      const ran = entries.some((e) => e.label.startsWith(l.prefix));
      const outcome: Outcome = ran ? "breached" : error !== undefined && l.objects.some((o) => error!.includes(o)) ? "refused" : "neutralised";
      outcomes.push({ attack: l.attack, path, outcome });
    }
    return problems;
  }

  async function scrubAll(): Promise<void> {
    await scrub(server.su, BOUNDARIES.filter((b) => present.includes(b.slug)), knownRoles, database);
  }

  /** Drops a planted credentials table only while it is still the attacker's (never the toolkit's). */
  async function removePlanted(slug: string, cleanup: readonly string[]): Promise<void> {
    const [t] = await sql<{ kind: string; owner: string; hooks: boolean }>(`SELECT relkind AS kind, pg_get_userbyid(relowner) AS owner,
      relhastriggers OR relhasrules OR relrowsecurity OR relkind <> 'r' AS hooks FROM pg_class WHERE oid = to_regclass($1)`, [`${B[slug]!.schema}.${CREDENTIALS_TABLE}`]);
    const statements = t && t.owner !== B[slug]!.app && !t.hooks ? cleanup.filter((s) => !s.includes(CREDENTIALS_TABLE)) : cleanup;
    for (const s of statements) await server.su.query(s).catch(() => {});
  }

  beforeAll(async () => {
    h = await createHarness("attacks", decl());
    await h.stack.setAllConfig({ [ALPHA_DRIVE[2]]: { value: "alpha-drive-credential-v1", secret: true } });
    server = await serverOf(h);
    sql = async (text, params) => (await server.su.query(text, params)).rows;
    database = h.server.database;
  });

  afterAll(async () => {
    const count = (o: Outcome) => outcomes.filter((x) => x.outcome === o).length;
    const blocked = outcomes.length - count("breached");
    console.log(`attacks: ${outcomes.length} tried, ${blocked} blocked (denied when planted ${count("denied when planted")}, refused ${count("refused")}, neutralised ${count("neutralised")}), breached ${count("breached")}`);
    for (const o of outcomes.filter((x) => x.outcome !== "neutralised")) console.log(`  ${o.outcome}: ${o.attack} @ ${o.path}`);
    await pgTempSession?.end().catch(() => {});
    await server?.close();
    await h?.dispose();
  });

  it("create: three workspaces, and no role of any holds anything outside it", async () => {
    const problems = await op("create (first up)", [], SLUGS, () => h.stack.up());
    expect(problems).toEqual([]);
    knownRoles = new Set((await sql<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_'")).map((r) => r.rolname));
    for (const slug of SLUGS) {
      apps[slug] = await login(slug);
      for (const s of attackerBase(B[slug]!, ctx(slug).others, database)) await apps[slug]!.query(s);
    }
    shape = await credentialsShape(sql, B.bravo!.schema);
    // The canary's channel works: a WARNING raised by the app reaches the log the tests read.
    const mark = (await readCanary(server.logFile, 0)).end;
    await apps.alpha!.query(`DO $$ BEGIN RAISE WARNING 'tenancy-attack-canary %', json_build_object('label', 'self-test', 'current_user', CURRENT_USER, 'session_user', SESSION_USER)::text; END $$`);
    expect((await readCanary(server.logFile, mark)).entries).toEqual([{ label: "self-test", current_user: B.alpha!.app, session_user: B.alpha!.app }]);
  });

  it("(g) denies event triggers, shadow schemas, the public schema, the control plane and SET ROLE to the app", async () => {
    const allowed: string[] = [];
    for (const s of eventFunction(ctx("alpha"))) await apps.alpha!.query(s);
    for (const s of deniedPlantings(ctx("alpha"))) {
      const code = await attempt(apps.alpha!, s);
      if (code === "42501") outcomes.push({ attack: `(g) ${s.slice(0, 60)}`, path: "planting", outcome: "denied when planted" });
      else allowed.push(`${code}: ${s}`);
    }
    expect(allowed).toEqual([]);
  });

  it("(b) denies the app every change to the credentials table the toolkit already owns", async () => {
    const allowed: string[] = [];
    for (const s of existingTableAttempts(ctx("bravo"))) {
      const code = await attempt(apps.bravo!, s);
      if (code === "42501") outcomes.push({ attack: `(b) ${s.slice(0, 60)}`, path: "planting", outcome: "denied when planted" });
      else allowed.push(`${code}: ${s}`);
    }
    expect(allowed).toEqual([]);
  });

  it("plants (e) built-in look-alikes in every schema and pg_temp, and (h) decommissioning traps", async () => {
    for (const slug of SLUGS) {
      if (await plant(slug, `(e) ${slug}: functions and operators named like built-ins`, shadowBuiltins(B[slug]!, ctx(slug).others, database, B[slug]!.schema))) {
        standing.push({ attack: `(e) ${slug}: built-in look-alikes in its schema`, prefix: `${slug}:e:`, objects: [`${B[slug]!.schema}.now`, `${B[slug]!.schema}.attack_op_0`] });
      }
    }
    // pg_temp belongs to one session: this one stays open through every operation below.
    pgTempSession = await login("alpha");
    await pgTempSession.query(`CREATE TEMP TABLE ${CREDENTIALS_TABLE} (${[...shape.columns, ...shape.constraints].join(", ")})`);
    for (const s of shadowBuiltins(B.alpha!, ctx("alpha").others, database, "pg_temp")) await pgTempSession.query(s);
    standing.push({ attack: "(e) alpha: same-named table and functions in pg_temp", prefix: "alpha:e:pg_temp", objects: [] });
    if (await plant("charlie", "(h) charlie: decommissioning traps", [...decommissionTraps(ctx("charlie")), ...credentialsPlantings(ctx("charlie"))[0]!.sql])) {
      standing.push({ attack: "(h) charlie: app-owned objects with triggers, definer functions, policies, rules", prefix: "charlie:h:", objects: [`${B.charlie!.schema}.${CREDENTIALS_TABLE}`, `${B.charlie!.schema}.attack_h_table`] });
      standing.push({ attack: "(a) charlie: planted credentials table at decommission", prefix: "charlie:a-trigger", objects: [`${B.charlie!.schema}.${CREDENTIALS_TABLE}`] });
    }
    expect(standing.length).toBeGreaterThan(0);
  });

  it("read: refresh and preview --refresh run no planted code", async () => {
    const problems = [
      ...(await op("refresh", [], [], () => h.stack.refresh())),
      ...(await op("preview --refresh", [], [], () => h.stack.preview({ refresh: true }))),
    ];
    expect(problems).toEqual([]);
  });

  it("update: rotating bravo's credential and changing alpha's members run no planted code", async () => {
    await h.stack.setAllConfig({ [BRAVO_SLACK[2]]: { value: "bravo-slack-credential-rotated", secret: true } });
    await h.writeDeclaration(decl({ members: { alpha: { "ben@acme.test": "editor" } } }));
    const problems = await op("update (rotate bravo, alpha members)", [], ["alpha", "bravo"], () => h.stack.up());
    expect(problems).toEqual([]);
  });

  for (const [index, variant] of ["a-trigger", "c-view", "d-rls-rule", "f-expressions"].entries()) {
    it(`${variant}: planted as alpha's credentials table, then add, refresh${index === 0 ? ", rotate" : ""} and remove the integration`, async () => {
      const planting = credentialsPlantings(ctx("alpha"))[index]!;
      const problems: string[] = [];
      const planted = await plant("alpha", planting.description, planting.sql);
      if (!planted) problems.push(...(await existingTableAttempts(ctx("alpha")).reduce(async (acc, s) => {
        const code = await attempt(apps.alpha!, s);
        return code === "42501" ? acc : [...(await acc), `${variant}: the app could ${s} (${code})`];
      }, Promise.resolve([] as string[]))));
      const live: Live[] = [{ attack: planting.description, prefix: `alpha:${variant}`, objects: planting.objects }];
      await h.writeDeclaration(decl({ alpha: true }));
      problems.push(...(await op(`${variant} / add integration`, live, ["alpha"], () => h.stack.up())));
      problems.push(...(await op(`${variant} / refresh`, live, [], () => h.stack.refresh())));
      if (index === 0) {
        await h.stack.setAllConfig({ [ALPHA_DRIVE[2]]: { value: "alpha-drive-credential-v2", secret: true } });
        problems.push(...(await op(`${variant} / rotate`, live, ["alpha"], () => h.stack.up())));
      }
      await h.writeDeclaration(decl());
      problems.push(...(await op(`${variant} / remove integration`, live, ["alpha"], () => h.stack.up())));
      await scrubAll();
      await removePlanted("alpha", planting.cleanup);
      expect(problems).toEqual([]);
    });
  }

  it("adopt: a re-up over existing objects with the state gone runs no planted code", async () => {
    const planting = credentialsPlantings(ctx("alpha"))[0]!;
    await plant("alpha", `${planting.description} (adopt)`, planting.sql);
    const live: Live[] = [{ attack: `${planting.description} (adopt)`, prefix: "alpha:a-trigger", objects: planting.objects }];
    const deployment = await h.stack.exportStack();
    (deployment.deployment as { resources: unknown[] }).resources = [];
    await h.stack.importStack(deployment);
    await h.writeDeclaration(decl({ alpha: true }));
    const problems = [
      ...(await op("adopt (state gone) / up", live, ["alpha"], () => h.stack.up())),
      ...(await op("adopt / preview --refresh", live, [], () => h.stack.preview({ refresh: true }))),
    ];
    await h.writeDeclaration(decl());
    problems.push(...(await op("adopt / remove integration", live, ["alpha"], () => h.stack.up())));
    await scrubAll();
    await removePlanted("alpha", planting.cleanup);
    expect(problems).toEqual([]);
  });

  it("decommission and delete: charlie's REASSIGN/DROP OWNED and DROP SCHEMA run no planted code and leave nothing", async () => {
    await h.writeDeclaration(decl({ decommissioned: ["charlie"] }));
    const problems = await op("decommission charlie", [], ["charlie"], () => h.stack.up());
    await h.writeDeclaration(decl({ workspaces: ["alpha", "bravo"] }));
    problems.push(...(await op("delete charlie (REASSIGN/DROP OWNED, DROP SCHEMA)", [], [], () => h.stack.up(), ["charlie"])));
    const left = await sql<{ what: string }>(`
      SELECT 'role ' || rolname AS what FROM pg_roles WHERE rolname = ANY($1)
      UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = $2`, [B.charlie!.roles, B.charlie!.schema]);
    problems.push(...left.map((l) => `delete charlie: left behind: ${l.what}`));
    expect(problems).toEqual([]);
  });

  it("destroy: every workspace decommissioned, then pulumi destroy, runs no planted code and leaves no workspace role", async () => {
    for (const slug of ["alpha", "bravo"]) await plant(slug, `(h) ${slug}: decommissioning traps`, decommissionTraps(ctx(slug)));
    for (const slug of ["alpha", "bravo"]) standing.push({ attack: `(h) ${slug}: decommissioning traps`, prefix: `${slug}:h:`, objects: [`${B[slug]!.schema}.attack_h_table`] });
    await h.writeDeclaration(decl({ workspaces: ["alpha", "bravo"], decommissioned: ["alpha", "bravo"] }));
    const problems = await op("decommission all", [], ["alpha", "bravo"], () => h.stack.up());
    await pgTempSession?.end().catch(() => {});
    pgTempSession = undefined;
    await Promise.all(Object.values(apps).map((c) => c.end().catch(() => {})));
    problems.push(...(await op("destroy", [], [], () => h.stack.destroy(), ["alpha", "bravo"])));
    const left = await sql<{ what: string }>(`SELECT 'role ' || rolname AS what FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%'
      UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname LIKE 'acme\\_\\_%'`);
    problems.push(...left.map((l) => `destroy: left behind: ${l.what}`));
    expect(problems).toEqual([]);
  });
});
