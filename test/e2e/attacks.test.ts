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
import { credentialsPlantings, credentialsShape, deniedPlantings, decommissionTraps, eventFunction, existingTableAttempts, scrub, settingKey, type Shape } from "./attack-cases.ts";
import { appPasswords, attempt, declaration, serverOf, type Server } from "./attack-harness.ts";
import { createHarness, type Harness } from "./harness.ts";
import { describeAvailabilityAndIntegrity } from "./attack-availability.ts";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";

const ORG = "acme";
// Six workspaces, not three: the four planted variants of the credentials table each get their
// own workspace, so one apply exercises all of them side by side (continue-on-error) instead of
// thirteen applies one after another. bravo is the victim with a credential from the start;
// charlie is decommissioned and deleted with its traps in place.
const VARIANTS = { alpha: 0, delta: 1, echo: 2, foxtrot: 3 } as const;
const SLUGS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"] as const;
const ATTACKERS = Object.keys(VARIANTS) as (keyof typeof VARIANTS)[];
const B: Record<string, Boundary> = Object.fromEntries(SLUGS.map((s) => [s, boundaryOf(ORG, s)]));
const BOUNDARIES = Object.values(B);
const integration = (slug: string): [string, string, string] => ["drive", "google-drive", `${slug}DriveOauth`];
const BRAVO_SLACK: [string, string, string] = ["slack", "slack", "bravoSlackToken"];

function decl(o: { attackers?: boolean; workspaces?: readonly string[]; decommissioned?: readonly string[]; members?: Record<string, Record<string, string>> } = {}): string {
  return declaration({
    org: ORG, workspaces: o.workspaces ?? SLUGS,
    integrations: { bravo: [BRAVO_SLACK], ...(o.attackers ? Object.fromEntries(ATTACKERS.map((s) => [s, [integration(s)]])) : {}) },
    ...(o.decommissioned ? { decommissioned: o.decommissioned } : {}),
    ...(o.members ? { members: o.members } : {}),
  });
}

async function secrets(h: Harness, version: string): Promise<void> {
  await h.stack.setAllConfig(Object.fromEntries(ATTACKERS.map((s) => [integration(s)[2], { value: `${s}-drive-credential-${version}`, secret: true }])));
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

  interface OpOptions {
    /** Workspaces whose own facts may change (their roles' attributes and memberships may not). */
    readonly changing?: readonly string[];
    /** Workspaces this operation deletes. */
    readonly removing?: readonly string[];
    /** The first apply: the control plane and the workspaces' roles appear. */
    readonly creating?: boolean;
  }

  /**
   * One engine operation, judged: planted code never ran, every role stays inside its workspace,
   * workspaces not changing (and the admin, and everything global) are unchanged, nothing was
   * stolen, and a failure names a planted object. Then the scrub undoes whatever was won, so the
   * next operation is judged on its own. Returns the problems (empty when the toolkit held).
   */
  async function op(path: string, live: readonly Live[], run: () => Promise<unknown>, o: OpOptions = {}): Promise<string[]> {
    const changing = o.changing ?? [];
    const removing = o.removing ?? [];
    const before = await catalogFacts(sql);
    const mark = (await readCanary(server.logFile, 0)).end;
    let error: string | undefined;
    try {
      await run();
    } catch (e) {
      error = String((e as Error).message ?? e);
      const lines = [...new Set(error.split(/\\n|\n/).filter((l) => /error:/i.test(l)).map((l) => l.trim().slice(0, 400)))];
      console.log(`${path}: the engine failed:\n  ${lines.slice(0, 12).join("\n  ")}`);
    }
    const { entries } = await readCanary(server.logFile, mark);
    const after = await catalogFacts(sql);
    const problems = canaryProblems(path, entries);
    const all = [...standing, ...live];
    if (error !== undefined && !all.some((l) => l.objects.some((obj) => error!.includes(obj)))) {
      const lines = error.split("\n").filter((l) => /error|refus|denied/i.test(l)).slice(0, 4).join(" | ");
      problems.push(`${path}: the operation failed without naming a planted object as schema.object: ${lines || error.slice(0, 400)}`);
    }
    present = present.filter((s) => !removing.includes(s));
    for (const slug of present) for (const f of await outsideFindings(sql, B[slug]!, database)) problems.push(`${path}: ${f}`);
    if (!o.creating) {
      const frozen = new Set(["global", ...SLUGS.filter((s) => !changing.includes(s) && !removing.includes(s))]);
      for (const c of frozenChanges(before, after, BOUNDARIES, frozen)) problems.push(`${path}: changed outside the workspaces it may change: ${c}`);
      const structural = (f: string) => f.startsWith("role ") || f.startsWith("membership ");
      const inside = new Set(changing.filter((s) => !removing.includes(s)));
      for (const c of frozenChanges(before.filter(structural), after.filter(structural), BOUNDARIES, inside)) problems.push(`${path}: a workspace's roles changed: ${c}`);
    }
    for (const slug of present) {
      const loot = `${B[slug]!.schema}.attack_loot`;
      const [row] = await sql<{ n: number }>(`SELECT CASE WHEN to_regclass($1) IS NULL THEN 0
        ELSE (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM ' || $1, false, false, '')))[1]::text::int END AS n`, [loot]);
      if (row && row.n > 0) problems.push(`${path}: ${row.n} rows stolen into ${loot}`);
    }
    for (const l of all) {
      const ran = entries.some((e) => e.label.startsWith(l.prefix));
      const outcome: Outcome = ran ? "breached" : error !== undefined && l.objects.some((obj) => error!.includes(obj)) ? "refused" : "neutralised";
      outcomes.push({ attack: l.attack, path, outcome });
    }
    await scrub(server.su, BOUNDARIES.filter((b) => present.includes(b.slug)), baselineSettings, database);
    return problems;
  }

  /** Drops a planted credentials table only while it is still the attacker's (never the toolkit's). */
  async function removePlanted(slug: string, cleanup: readonly string[]): Promise<void> {
    const [t] = await sql<{ owner: string; hooks: boolean }>(`SELECT pg_get_userbyid(relowner) AS owner,
      relhastriggers OR relhasrules OR relrowsecurity OR relkind <> 'r' AS hooks FROM pg_class WHERE oid = to_regclass($1)`, [`${B[slug]!.schema}.${CREDENTIALS_TABLE}`]);
    const statements = t && t.owner !== B[slug]!.app && !t.hooks ? cleanup.filter((s) => !s.includes(CREDENTIALS_TABLE)) : cleanup;
    for (const s of statements) await server.su.query(s).catch(() => {});
  }

  /** Plants each attacker's variant of the credentials table; the live attacks it leaves. */
  async function plantVariants(tag: string): Promise<Live[]> {
    const live: Live[] = [];
    for (const slug of ATTACKERS) {
      const planting = credentialsPlantings(ctx(slug))[VARIANTS[slug]]!;
      await removePlanted(slug, planting.cleanup); // what an earlier, failed case left
      if (await plant(slug, `${planting.description} [${slug}${tag}]`, planting.sql)) {
        live.push({ attack: `${planting.description} [${slug}${tag}]`, prefix: `${slug}:${planting.id}`, objects: planting.objects });
      } else {
        // The name is taken (by the toolkit's own table): then the app must not be able to change it either.
        for (const s of existingTableAttempts(ctx(slug))) {
          const code = await attempt(apps[slug]!, s);
          if (code !== "42501") deniedFailures.push(`${slug}: the app could ${s} (${code})`);
        }
      }
    }
    return live;
  }

  async function removeVariants(): Promise<void> {
    for (const slug of ATTACKERS) await removePlanted(slug, credentialsPlantings(ctx(slug))[VARIANTS[slug]]!.cleanup);
  }

  const deniedFailures: string[] = [];
  let baselineSettings = new Set<string>();
  let variants: Live[] = [];

  beforeAll(async () => {
    h = await createHarness("attacks", decl());
    await secrets(h, "v1");
    server = await serverOf(h);
    sql = async (text, params) => (await server.su.query(text, params)).rows;
    database = h.server.database;
  });

  afterAll(async () => {
    const count = (o: Outcome) => outcomes.filter((x) => x.outcome === o).length;
    const blocked = outcomes.length - count("breached");
    console.log(`attacks: ${outcomes.length} tried, ${blocked} blocked (denied when planted ${count("denied when planted")}, refused ${count("refused")}, neutralised ${count("neutralised")}), breached ${count("breached")}`);
    for (const o of outcomes.filter((x) => x.outcome !== "neutralised" && x.outcome !== "denied when planted")) console.log(`  ${o.outcome}: ${o.attack} @ ${o.path}`);
    await pgTempSession?.end().catch(() => {});
    await server?.close();
    await h?.dispose();
  });

  it("create: six workspaces, and no role of any holds anything outside it", async () => {
    const problems = await op("create (first up)", [], () => h.stack.up({ continueOnError: true }), { changing: SLUGS, creating: true });
    const settings = await sql<{ role: string | null; db: string | null }>(`SELECT pg_get_userbyid(nullif(setrole, 0)) AS role,
      (SELECT datname FROM pg_database WHERE oid = setdatabase) AS db FROM pg_db_role_setting`);
    baselineSettings = new Set(settings.map((s) => settingKey(s.role, s.db)));
    for (const slug of SLUGS) {
      apps[slug] = await login(slug);
      for (const s of attackerBase(B[slug]!, ctx(slug).others, database)) await apps[slug]!.query(s);
    }
    shape = await credentialsShape(sql, B.bravo!.schema);
    // The canary's channel works: a WARNING raised by the app reaches the log the tests read.
    const mark = (await readCanary(server.logFile, 0)).end;
    await apps.alpha!.query(`DO $$ BEGIN RAISE WARNING 'tenancy-attack-canary %', json_build_object('label', 'self-test', 'current_user', CURRENT_USER, 'session_user', SESSION_USER)::text; END $$`);
    expect((await readCanary(server.logFile, mark)).entries).toEqual([{ label: "self-test", current_user: B.alpha!.app, session_user: B.alpha!.app }]);
    expect(problems).toEqual([]);
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
    // Workspace roles hold no TEMPORARY on the database (least privilege): then pg_temp is out of
    // the attacker's reach, and that counts as denied when planted.
    pgTempSession = await login("alpha");
    const temp = await attempt(pgTempSession, `CREATE TEMP TABLE ${CREDENTIALS_TABLE} (${[...shape.columns, ...shape.constraints].join(", ")})`);
    if (temp === "42501") outcomes.push({ attack: "(e) alpha: same-named table and functions in pg_temp", path: "planting", outcome: "denied when planted" });
    else {
      await pgTempSession.query(`CREATE TEMP TABLE ${CREDENTIALS_TABLE} (${[...shape.columns, ...shape.constraints].join(", ")})`);
      for (const s of shadowBuiltins(B.alpha!, ctx("alpha").others, database, "pg_temp")) await pgTempSession.query(s);
      standing.push({ attack: "(e) alpha: same-named table and functions in pg_temp", prefix: "alpha:e:pg_temp", objects: [] });
    }
    if (await plant("charlie", "(h) charlie: decommissioning traps", decommissionTraps(ctx("charlie")))) {
      standing.push({ attack: "(h) charlie: app-owned objects with triggers, definer functions, policies, rules", prefix: "charlie:h:", objects: [`${B.charlie!.schema}.attack_h_table`] });
    }
    const planting = credentialsPlantings(ctx("charlie"))[0]!;
    if (await plant("charlie", `${planting.description} [charlie, at decommission]`, planting.sql)) {
      standing.push({ attack: `${planting.description} [charlie, at decommission]`, prefix: "charlie:a-trigger", objects: planting.objects });
    }
    expect(standing.length).toBeGreaterThan(0);
  });

  it("create (credentials): adding an integration to each attacker runs none of the planted credentials tables' code", async () => {
    variants = await plantVariants("");
    await h.writeDeclaration(decl({ attackers: true }));
    const problems = await op("add integrations", variants, () => h.stack.up({ continueOnError: true }), { changing: ATTACKERS });
    expect([...deniedFailures, ...problems]).toEqual([]);
  });

  it("read: refresh runs no planted code", async () => {
    expect(await op("refresh", variants, () => h.stack.refresh())).toEqual([]);
  });

  it("update: rotating every credential and changing alpha's members runs no planted code", async () => {
    await secrets(h, "v2");
    await h.stack.setAllConfig({ [BRAVO_SLACK[2]]: { value: "bravo-slack-credential-rotated", secret: true } });
    await h.writeDeclaration(decl({ attackers: true, members: { alpha: { "ben@acme.test": "editor" } } }));
    const problems = await op("update (rotate, members)", variants, () => h.stack.up({ continueOnError: true }), { changing: [...ATTACKERS, "bravo"] });
    expect(problems).toEqual([]);
  });

  it("decommission, then removing the integrations, run no planted code", async () => {
    // Integrations are protected with their workspace: removing one needs it decommissioned.
    const members = { alpha: { "ben@acme.test": "editor" } };
    await h.writeDeclaration(decl({ attackers: true, members, decommissioned: ATTACKERS }));
    const problems = await op("decommission attackers", variants, () => h.stack.up({ continueOnError: true }), { changing: ATTACKERS });
    await h.writeDeclaration(decl({ members, decommissioned: ATTACKERS }));
    problems.push(...(await op("remove integrations", variants, () => h.stack.up({ continueOnError: true }), { changing: ATTACKERS })));
    await removeVariants();
    expect(problems).toEqual([]);
  });

  it("adopt: a re-up over existing objects with the state gone, and preview --refresh, run no planted code", async () => {
    variants = await plantVariants(", adopt");
    const deployment = await h.stack.exportStack();
    (deployment.deployment as { resources: unknown[] }).resources = [];
    await h.stack.importStack(deployment);
    await h.writeDeclaration(decl({ attackers: true, decommissioned: ATTACKERS }));
    // A re-up over everything: the toolkit re-applies every workspace, so each may change, but
    // none may gain anything outside itself.
    const problems = [
      ...(await op("adopt (state gone) + add integrations", variants, () => h.stack.up({ continueOnError: true }), { changing: SLUGS })),
      ...(await op("preview --refresh", variants, () => h.stack.preview({ refresh: true }))),
    ];
    await h.writeDeclaration(decl({ decommissioned: ATTACKERS }));
    problems.push(...(await op("adopt / remove integrations", variants, () => h.stack.up({ continueOnError: true }), { changing: ATTACKERS })));
    await removeVariants();
    expect([...deniedFailures, ...problems]).toEqual([]);
  });

  it("decommission, delete one workspace (REASSIGN/DROP OWNED, DROP SCHEMA) and destroy run no planted code and leave nothing", async () => {
    for (const slug of SLUGS.filter((s) => s !== "charlie")) {
      if (await plant(slug, `(h) ${slug}: decommissioning traps`, decommissionTraps(ctx(slug)))) {
        standing.push({ attack: `(h) ${slug}: decommissioning traps`, prefix: `${slug}:h:`, objects: [`${B[slug]!.schema}.attack_h_table`] });
      }
    }
    await h.writeDeclaration(decl({ decommissioned: SLUGS }));
    const problems = await op("decommission all", [], () => h.stack.up({ continueOnError: true }), { changing: SLUGS });
    const rest = SLUGS.filter((s) => s !== "charlie");
    await h.writeDeclaration(decl({ workspaces: rest, decommissioned: rest }));
    problems.push(...(await op("delete charlie", [], () => h.stack.up({ continueOnError: true }), { removing: ["charlie"] })));
    await pgTempSession?.end().catch(() => {});
    pgTempSession = undefined;
    await Promise.all(Object.values(apps).map((c) => c.end().catch(() => {})));
    problems.push(...(await op("destroy", [], () => h.stack.destroy({ continueOnError: true }), { removing: rest })));
    const left = await sql<{ what: string }>(`SELECT 'role ' || rolname AS what FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%'
      UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname LIKE 'acme\\_\\_%'`);
    problems.push(...left.map((l) => `left behind: ${l.what}`));
    expect(problems).toEqual([]);
  });
});

// Issue 16: the availability and integrity classes, on a stack of their own (attack-availability.ts).
describeAvailabilityAndIntegrity();
