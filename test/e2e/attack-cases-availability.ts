// Issue 16: the availability and integrity classes of the attack e2e test. A workspace's app
// role (a real login, as the SaaS holds it) tries to jam, hijack or outlive the toolkit: routines,
// types, columns, sequences and large objects granted across the boundary, advisory locks on the
// toolkit's former keys, open transactions holding locks the admin's DDL needs, connection exhaustion,
// its own password and role settings, names carrying terminal and markdown sequences, and objects
// in other databases that keep its roles alive. Each case is planted right before one engine
// operation (create, update, rotation, refresh, decommission, delete; of the attacker's own
// workspace or of another) and judged right after it by its own catalog check
// (attack-availability.ts adds the checks every case shares: nothing half-applied, no wait
// longer than the bound).
import type pg from "pg";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";
import type { Boundary, Sql } from "./attack-catalog.ts";

/**
 * Cases that still breach on main (checked 2026-12-04 after merging boundary, sessions and
 * audit-access). The test asserts that each of them STILL breaches: when one stops, remove it
 * here. Nothing is skipped. None left.
 * (A3, a refused creation leaving a record without schema or roles, stopped breaching once the
 * record waits for the boundary. I4, postgres and template1 open to every login through PUBLIC,
 * stopped once the embedded setup revoked PUBLIC's CONNECT and TEMPORARY there and the audit
 * reported what a workspace's roles still reach as a boundary finding.)
 */
export const KNOWN_BREACHES: readonly string[] = [];

/**
 * Cases that breached on the merged code in some runs and held in others. None now; what the
 * last ones were, and why they are deterministic since issue #16's lock work:
 * - A2, A4, A5 (an app session holding the toolkit's advisory keys): the admin's keys are rows
 *   of tenancy_locks.keys, which no workspace role can lock (provider/postgres/locks.ts), so
 *   nothing waits on the app's advisory lock and the targets' changes apply: the cases check it.
 *   (Before: the lock waits held every pooled connection and the first error line was "cannot
 *   connect to PostgreSQL ... timeout exceeded", naming neither lock nor holder. The pool now
 *   waits longer for a connection than for any one lock, and a lock found held past lock_timeout
 *   fails a second wait on it at once, so that line cannot come first.)
 * - A19, A20 (and A14, A21, A22, which aim at the same deletions): delta's deletion waited on
 *   A19's lock in its schema while holding the database key, so charlie's deletion gave up on
 *   that key naming the admin's own session. A deletion now waits for the locks a workspace's
 *   sessions hold on its schema, its tables and its roles before it takes any key, and under the
 *   database key waits at most a sixth of lock_timeout (decommission-sql.ts): delta's
 *   deletion is refused naming A19's session, and charlie's is refused only by what aims at it
 *   (A20's open GRANT to charlie's role, named).
 */
export const TIMING_DEPENDENT: readonly string[] = [];

export type AttackClass = "availability" | "integrity";
export const PHASES = ["create", "create-locked", "update", "rotation", "refresh", "decommission", "delete"] as const;
export type Phase = (typeof PHASES)[number];

/** What a case may use: real logins, the superuser, and the names of every workspace. */
export interface Env {
  readonly sql: Sql;
  readonly database: string;
  readonly b: (slug: string) => Boundary;
  /** A new connection as the app role of `slug`, into `database` (default: the workspaces' one). */
  login(slug: string, database?: string): Promise<pg.Client>;
  /** The superuser in another database of the server (closed at the end). */
  suIn(database: string): Promise<pg.Client>;
  /** Registers a session whose locks the watchdog attributes to `caseId` (and may end). */
  hold(caseId: string, client: pg.Client): Promise<void>;
  /** From now on log in as the app of `slug` with `password` (undefined: the derived one again). */
  usePassword(slug: string, password: string | undefined): void;
  /** The app password `tenancy credentials --show-secrets` gives for `slug` now. */
  appPassword(slug: string): Promise<string>;
  /** Whether `user`/`password` can log in. */
  canLogin(user: string, password: string): Promise<boolean>;
  /** Everything printed by the engine runs of this phase, and the one line a failure showed. */
  readonly printed: () => string;
  /** What of `slug` differs from the declaration now, one line each (empty: as declared). */
  asDeclared(slug: string): Promise<string[]>;
  /** The boundary resource of `slug` as the stack's state holds it (after a refresh: as found). */
  boundaryState(slug: string): Promise<Record<string, unknown> | undefined>;
  /** `tenancy audit` of the current declaration: its markdown and text, and its findings as "class: message". */
  audit(): Promise<{ printed: string; findings: string[] }>;
}

export interface Case {
  readonly id: string;
  readonly cls: AttackClass;
  readonly phase: Phase;
  readonly description: string;
  /** Whose app role plants it. */
  readonly attacker: string;
  /** The workspaces whose operation in this phase it tries to disturb (the attacker's own, another's, or both). */
  readonly targets: readonly string[];
  /** Names a refusal may quote to point at this case (objects, roles, lock holders). */
  readonly names: readonly string[];
  /** Plants it; "denied" when PostgreSQL refuses the planting itself (42501). */
  plant(env: Env): Promise<"planted" | "denied">;
  /** After the phase: what is still wrong, one line each (empty: it held). */
  check(env: Env): Promise<string[]>;
  /** Judged again after every later phase too (its objects stay), problems added up. */
  readonly standing?: boolean;
  /** Superuser cleanup after the check, so the next phase is judged on its own. */
  cleanup?(env: Env): Promise<void>;
}

const id = (s: string) => `"${s.replace(/"/g, '""')}"`;
const q = (b: Boundary, name: string) => `${id(b.schema)}.${id(name)}`;

/** PostgreSQL refused the login for want of CONNECT on the database (42501). */
const refusedLogin = (error: unknown) => (error as { code?: string }).code === "42501";

/** Runs statements as the app; 42501 (insufficient privilege, the login to `database` included) means denied. */
async function asApp(env: Env, slug: string, statements: readonly string[], database?: string): Promise<"planted" | "denied"> {
  let c: pg.Client;
  try {
    c = await env.login(slug, database);
  } catch (error) {
    if (refusedLogin(error)) return "denied"; // the embedded default closes postgres and template1 (I4)
    throw error;
  }
  try {
    for (const s of statements) await c.query(s);
    return "planted";
  } catch (error) {
    if ((error as { code?: string }).code === "42501") return "denied";
    throw new Error(`planting failed (${(error as { code?: string }).code}): ${(error as Error).message}\n${statements.join("\n").slice(0, 400)}`);
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Every explicit privilege on objects of `schema` held by PUBLIC or by a role that is not the
 * schema's workspace's, plus every privilege `others` hold on anything named `marker`: one line
 * each. Only lines mentioning `marker` are returned.
 */
export async function crossingsOf(sql: Sql, self: Boundary, ...markers: string[]): Promise<string[]> {
  const rows = await sql<{ line: string }>(`
    WITH acl AS (
      SELECT 'relation ' || c.oid::regclass::text AS obj, c.relnamespace AS nsp, c.relowner AS owner, a.grantee, a.privilege_type
        FROM pg_class c, aclexplode(c.relacl) a
      UNION ALL SELECT 'column ' || c.oid::regclass::text || '.' || quote_ident(t.attname), c.relnamespace, c.relowner, a.grantee, a.privilege_type
        FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid, aclexplode(t.attacl) a
      UNION ALL SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END || p.oid::regprocedure::text, p.pronamespace, p.proowner, a.grantee, a.privilege_type
        FROM pg_proc p, aclexplode(p.proacl) a
      UNION ALL SELECT CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || t.oid::regtype::text, t.typnamespace, t.typowner, a.grantee, a.privilege_type
        FROM pg_type t, aclexplode(t.typacl) a)
    SELECT obj || ' ' || CASE grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee) END || ' ' || privilege_type AS line
    FROM acl WHERE grantee <> owner AND (
      (nsp = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND (grantee = 0 OR pg_get_userbyid(grantee) NOT LIKE $1 || '\\_\\_%'))
      OR (grantee <> 0 AND pg_get_userbyid(grantee) LIKE 'acme\\_\\_%' AND nsp <> ALL (SELECT oid FROM pg_namespace WHERE nspname = split_part(pg_get_userbyid(grantee), '__', 1) || '__' || split_part(pg_get_userbyid(grantee), '__', 2))))
    UNION ALL
    SELECT 'default privileges for ' || pg_get_userbyid(d.defaclrole) || ' in ' || coalesce(n.nspname, '(all schemas)') || ' (' || d.defaclobjtype::text || ') give '
      || CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' ' || a.privilege_type
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
    WHERE pg_get_userbyid(d.defaclrole) LIKE $1 || '\\_\\_%' AND a.grantee <> d.defaclrole
      AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) NOT LIKE $1 || '\\_\\_%')
      -- PUBLIC's EXECUTE and USAGE in a default for every schema are PostgreSQL's built-in defaults, written out
      AND NOT (a.grantee = 0 AND d.defaclnamespace = 0)`, [self.schema]);
  return rows.map((r) => r.line).filter((l) => markers.some((m) => l.includes(m))).sort();
}

/** The crossing check every grant case shares: after the apply, nothing named `marker` crosses. */
function taken(attacker: string, ...markers: string[]) {
  return async (env: Env) => (await crossingsOf(env.sql, env.b(attacker), ...markers)).map((l) => `still crossing the boundary of ${env.b(attacker).schema} after the apply: ${l}`);
}

/** A grant case: objects of the attacker's, granted to `to` (roles or PUBLIC), taken back by the next apply. */
function grantCase(o: { id: string; phase: Phase; attacker: string; targets: string[]; description: string; marker: string; also?: string[]; sql: (a: Boundary, env: Env) => string[]; cls?: AttackClass }): Case {
  return {
    id: o.id, cls: o.cls ?? "integrity", phase: o.phase, description: o.description, attacker: o.attacker, targets: o.targets, names: [o.marker],
    plant: (env) => asApp(env, o.attacker, o.sql(env.b(o.attacker), env)),
    check: taken(o.attacker, o.marker, ...(o.also ?? [])),
  };
}

/**
 * Holds `pg_advisory_lock(hashtext(key))`, one of the keys the toolkit took before its keys were
 * rows no workspace role can lock (provider/postgres/locks.ts), from an app session of the
 * attacker until the watchdog or cleanup ends it. Blocked when the targets' changes are applied
 * all the same (nothing waited on the session: the shared watchdog check).
 */
function advisoryCase(caseId: string, phase: Phase, attacker: string, targets: string[], key: (env: Env) => string, what: string): Case {
  return {
    id: caseId, cls: "availability", phase, attacker, targets, names: ["advisory", `${attacker}__app`],
    description: `an app session of ${attacker} holds the advisory lock ${what} during the apply`,
    async plant(env) {
      const c = await env.login(attacker);
      await c.query("SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext($1))", [key(env)]);
      await env.hold(caseId, c);
      return "planted";
    },
    check: async (env) => (await Promise.all(targets.map((t) => env.asDeclared(t)))).flat(),
  };
}

/** An open transaction of the attacker's app, idle, holding whatever `statements` locked. */
function openTransactionCase(o: { id: string; phase: Phase; attacker: string; targets: string[]; description: string; names: string[]; sql: (env: Env) => string[] }): Case {
  return {
    id: o.id, cls: "availability", phase: o.phase, attacker: o.attacker, targets: o.targets, names: o.names, description: o.description,
    async plant(env) {
      const c = await env.login(o.attacker);
      await c.query("BEGIN");
      try {
        for (const s of o.sql(env)) await c.query(s);
      } catch (error) {
        await c.end().catch(() => {});
        if ((error as { code?: string }).code === "42501") return "denied";
        throw error;
      }
      await env.hold(o.id, c);
      return "planted";
    },
    check: async () => [],
  };
}

const ESC = "\u001b";
/** A name that, printed raw, clears the terminal line and forges an engine error (ESC, CR, bidi override). */
export const FORGED_NAME = `attack_out_${ESC}[2K\r${ESC}[31merror: update succeeded, nothing to review\u202e${ESC}[0m`;
/** A name that, rendered raw in markdown, is a link in a pull-request comment. */
export const LINK_NAME = "attack_md_[Fix here](https://evil.test/fix)";
/** Raw fragments no printed output may contain. */
export const RAW_FRAGMENTS = [ESC, "\r", "\u202e", "[Fix here](https://evil.test"];

export function allCases(database: string): Case[] {
  void database;
  const cases: Case[] = [];
  // ---- create: an integration added to alpha (its own), a new workspace echo (another's) ----
  cases.push(
    grantCase({
      id: "A1 procedure to PUBLIC", cls: "availability", phase: "create", attacker: "alpha", targets: ["alpha"], marker: "attack_av_proc",
      description: "(16.1) a procedure of alpha's with EXECUTE granted to PUBLIC, before alpha's integration is created",
      sql: (a) => [`CREATE PROCEDURE ${q(a, "attack_av_proc")}() LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON PROCEDURE ${q(a, "attack_av_proc")}() TO PUBLIC`],
    }),
    grantCase({
      id: "I1 function to another workspace", phase: "create", attacker: "alpha", targets: ["alpha"], marker: "attack_in_fn",
      description: "(16.6) a function of alpha's with EXECUTE granted to bravo's roles",
      sql: (a, env) => [`CREATE FUNCTION ${q(a, "attack_in_fn")}() RETURNS int LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON FUNCTION ${q(a, "attack_in_fn")}() TO ${env.b("bravo").roles.map(id).join(", ")}`],
    }),
    grantCase({
      id: "I2 sequence to another workspace", phase: "create", attacker: "alpha", targets: ["alpha"], marker: "attack_in_seq",
      description: "(16.6) a sequence of alpha's with USAGE, SELECT, UPDATE granted to bravo's app",
      sql: (a, env) => [`CREATE SEQUENCE ${q(a, "attack_in_seq")}`, `GRANT ALL ON SEQUENCE ${q(a, "attack_in_seq")} TO ${id(env.b("bravo").app)}`],
    }),
    {
      id: "I3 names forging output", cls: "integrity", phase: "create", attacker: "alpha", targets: ["alpha"], names: ["attack_out_", "attack_md_"], standing: true,
      description: "(16.7) a procedure named with ESC/CR/bidi sequences granted to PUBLIC, a table named as a markdown link granted to bravo: engine output, the error line and the audit's markdown",
      plant: (env) => asApp(env, "alpha", [
        `CREATE PROCEDURE ${q(env.b("alpha"), FORGED_NAME)}() LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON PROCEDURE ${q(env.b("alpha"), FORGED_NAME)}() TO PUBLIC`,
        `CREATE TABLE ${q(env.b("alpha"), LINK_NAME)} (x int)`, `GRANT SELECT ON ${q(env.b("alpha"), LINK_NAME)} TO ${id(env.b("bravo").readonly)}`,
      ]),
      async check(env) {
        const problems: string[] = [];
        const printed = env.printed();
        for (const f of RAW_FRAGMENTS) if (printed.includes(f)) problems.push(`the engine output or its error line carries the raw sequence ${JSON.stringify(f)}`);
        const md = (await env.audit()).printed;
        for (const f of RAW_FRAGMENTS) if (md.includes(f)) problems.push(`the audit's markdown carries the raw sequence ${JSON.stringify(f)}`);
        return problems;
      },
    },
    ((loggedIn: string[]) => ({
      id: "I4 other databases reachable", cls: "integrity", phase: "create", attacker: "alpha", targets: ["alpha"], names: ["postgres", "template1"],
      description: "the app role logs in to the server's other databases (postgres, template1: initdb gives PUBLIC CONNECT, TEMP on postgres) where no boundary applies: refused on the embedded default, and anything still reachable reported by the audit as a boundary finding naming the database",
      async plant(env: Env) {
        // Tried whatever happens: a refused login is the attack blocked, which the check confirms in the catalogs.
        for (const db of ["postgres", "template1"]) {
          const c = await env.login("alpha", db).catch((e: unknown) => { if (refusedLogin(e)) return undefined; throw e; });
          if (c) { loggedIn.push(db); await c.end(); }
        }
        return "planted" as const;
      },
      async check(env: Env) {
        const rows = await env.sql<{ database: string; line: string }>(`SELECT d.datname AS database, r.rolname || ' may ' || p || ' on database ' || d.datname AS line
          FROM pg_database d CROSS JOIN unnest(ARRAY['CONNECT', 'TEMPORARY', 'CREATE']) p CROSS JOIN pg_roles r
          WHERE r.rolname = ANY($1) AND d.datname <> $2 AND d.datallowconn AND has_database_privilege(r.oid, d.oid, p) ORDER BY 2`, [env.b("alpha").roles, env.database]);
        const problems = loggedIn.map((db) => `${env.b("alpha").app} logged in to database ${db}`);
        // The embedded setup revokes PUBLIC's CONNECT and TEMPORARY on these two: nothing may reach them.
        problems.push(...rows.filter((r) => r.database === "postgres" || r.database === "template1").map((r) => `${r.line} on the embedded default`));
        // Any other database: reported by the audit as a boundary finding naming it.
        const { findings } = await env.audit();
        problems.push(...rows.filter((r) => !findings.some((f) => f.startsWith("boundary:") && f.includes(`database "${r.database}"`))).map((r) => `${r.line}, and the audit reports no boundary finding about it`));
        return problems;
      },
    }) satisfies Case)([]),
  );
  // The advisory keys the toolkit took before its keys were rows: a key of echo's here (in the
  // create phase), the database's and the credentials' below.
  cases.push(advisoryCase("A3 lock boundary key of a future workspace", "create", "alpha", ["echo"], (env) => `tenancy:boundary:${env.b("echo").schema}`, "tenancy:boundary:<schema> of echo, not created yet"));
  // ---- create under locks: foxtrot created, bravo's first integration, alpha's credential rotated ----
  cases.push(
    advisoryCase("A2 lock database key", "create-locked", "alpha", ["foxtrot"], (env) => `tenancy:database:${env.database}`, "tenancy:database:<db> (every boundary apply)"),
    advisoryCase("A4 lock credentials key of another workspace", "create-locked", "alpha", ["bravo"], (env) => `tenancy:credentials:${env.b("bravo").schema}`, "tenancy:credentials:<schema> of bravo"),
    advisoryCase("A5 lock own credentials key", "create-locked", "alpha", ["alpha"], (env) => `tenancy:credentials:${env.b("alpha").schema}`, "tenancy:credentials:<schema> of its own"),
  );
  // ---- update: alpha's and bravo's members change ----
  cases.push(
    grantCase({
      id: "I5 aggregate to another workspace", phase: "update", attacker: "alpha", targets: ["alpha", "bravo"], marker: "attack_in_agg",
      description: "(16.6) an aggregate of alpha's with EXECUTE granted to bravo's owner",
      sql: (a, env) => [`CREATE AGGREGATE ${q(a, "attack_in_agg")}(int) (SFUNC = pg_catalog.int4pl, STYPE = int)`, `GRANT EXECUTE ON FUNCTION ${q(a, "attack_in_agg")}(int) TO ${id(env.b("bravo").owner)}`],
    }),
    grantCase({
      id: "I6 type to another workspace", phase: "update", attacker: "alpha", targets: ["alpha", "bravo"], marker: "attack_in_type",
      description: "(16.6) a composite type of alpha's with USAGE granted to bravo's app",
      sql: (a, env) => [`CREATE TYPE ${q(a, "attack_in_type")} AS (x int)`, `GRANT USAGE ON TYPE ${q(a, "attack_in_type")} TO ${id(env.b("bravo").app)}`],
    }),
    grantCase({
      id: "I7 domain to another workspace", phase: "update", attacker: "alpha", targets: ["alpha", "bravo"], marker: "attack_in_domain",
      description: "(16.6) a domain of alpha's with USAGE granted to bravo's read-only role",
      sql: (a, env) => [`CREATE DOMAIN ${q(a, "attack_in_domain")} AS int`, `GRANT USAGE ON DOMAIN ${q(a, "attack_in_domain")} TO ${id(env.b("bravo").readonly)}`],
    }),
    grantCase({
      id: "I8 column to another workspace", phase: "update", attacker: "alpha", targets: ["alpha", "bravo"], marker: "attack_in_col",
      description: "(16.6) a column of alpha's table with SELECT, UPDATE granted to bravo's app",
      sql: (a, env) => [`CREATE TABLE ${q(a, "attack_in_coltab")} (attack_in_col int, other int)`, `GRANT SELECT (attack_in_col), UPDATE (attack_in_col) ON ${q(a, "attack_in_coltab")} TO ${id(env.b("bravo").app)}`],
    }),
    grantCase({
      id: "I9 default privileges to another workspace", phase: "update", attacker: "alpha", targets: ["alpha", "bravo"], marker: "attack_in_dp", also: ["default privileges for acme__alpha__app"],
      description: "ALTER DEFAULT PRIVILEGES of alpha's app (every schema) granting its future functions and tables to bravo's app, then a function made under them",
      sql: (a, env) => [
        `ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO ${id(env.b("bravo").app)}`,
        `ALTER DEFAULT PRIVILEGES IN SCHEMA ${id(a.schema)} GRANT SELECT ON TABLES TO ${id(env.b("bravo").app)}`,
        `CREATE FUNCTION ${q(a, "attack_in_dp")}() RETURNS int LANGUAGE sql AS $$SELECT 1$$`,
      ],
    }),
    {
      id: "A7 LISTEN/NOTIFY spam", cls: "availability", phase: "update", attacker: "alpha", targets: ["alpha", "bravo"], names: ["notify"],
      description: "an app session LISTENs and never reads while another fills the notification queue with 8 kB payloads during the apply",
      async plant(env) {
        const listener = await env.login("alpha");
        await listener.query("LISTEN attack_channel");
        await listener.query("BEGIN");
        await listener.query("SELECT 1"); // an open transaction keeps the queue from being truncated
        await env.hold("A7 LISTEN/NOTIFY spam", listener);
        const sender = await env.login("alpha");
        await sender.query("SELECT pg_catalog.pg_notify('attack_channel', pg_catalog.repeat('x', 7900) || i) FROM generate_series(1, 3000) i");
        await sender.end();
        return "planted";
      },
      async check(env) {
        const [r] = await env.sql<{ usage: number }>("SELECT pg_notification_queue_usage() AS usage");
        return r && r.usage > 0.5 ? [`the notification queue is ${Math.round(r.usage * 100)}% full`] : [];
      },
    },
    {
      id: "A8 many crossing grants", cls: "availability", phase: "update", attacker: "delta", targets: ["delta", "bravo"], names: ["attack_many_"],
      description: "300 functions of delta's each granted to bravo's app: the take-back must stay within the apply's bound (one REVOKE ALL ON ALL FUNCTIONS per grant is quadratic)",
      plant: (env) => asApp(env, "delta", [`DO $$ BEGIN FOR i IN 1..300 LOOP
          EXECUTE pg_catalog.format('CREATE FUNCTION %I.%I() RETURNS int LANGUAGE sql AS ''SELECT 1''', ${lit(env.b("delta").schema)}, 'attack_many_' || i);
          EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %I.%I() TO %I', ${lit(env.b("delta").schema)}, 'attack_many_' || i, ${lit(env.b("bravo").app)});
        END LOOP; END $$`]),
      check: async (env) => { const left = await crossingsOf(env.sql, env.b("delta"), "attack_many_"); return left.length > 0 ? [`${left.length} of 300 grants still cross the boundary of ${env.b("delta").schema} after the apply`] : []; },
    },
    ((allowed: string[]) => ({
      id: "I11 role attributes and admin sessions", cls: "integrity", phase: "update", attacker: "alpha", targets: ["alpha"], names: [],
      description: "the app tries CONNECTION LIMIT 0, NOLOGIN, VALID UNTIL, RENAME on itself and pg_terminate_backend / pg_cancel_backend on an admin session",
      async plant(env: Env) {
        const c = await env.login("alpha");
        const [admin] = await env.sql<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        for (const s of ["ALTER ROLE CURRENT_USER CONNECTION LIMIT 0", "ALTER ROLE CURRENT_USER NOLOGIN", "ALTER ROLE CURRENT_USER VALID UNTIL '2000-01-01'",
          "ALTER ROLE CURRENT_USER RENAME TO attack_renamed", `SELECT pg_catalog.pg_terminate_backend(${admin!.pid})`, `SELECT pg_catalog.pg_cancel_backend(${admin!.pid})`]) {
          // Refused whatever the SQLSTATE (42501, or 42939 for renaming the session's own role).
          const r = await c.query(s).then(() => "ok", (e: { code?: string }) => e.code ?? "error");
          if (r === "ok") allowed.push(s);
        }
        await c.end();
        return allowed.length === 0 ? "denied" : "planted";
      },
      check: async () => allowed.map((a) => `the app could: ${a}`),
    }) satisfies Case)([]),
    {
      id: "I10 own password changed", cls: "integrity", phase: "update", attacker: "alpha", targets: ["alpha"], names: ["password", "alpha__app"],
      description: "(16.5) ALTER ROLE current_user PASSWORD: the app locks the SaaS out and keeps a password of its own",
      async plant(env) {
        const r = await asApp(env, "alpha", ["ALTER ROLE CURRENT_USER PASSWORD 'attacker-chosen-password'"]);
        if (r === "planted") env.usePassword("alpha", "attacker-chosen-password");
        return r;
      },
      async check(env) {
        const problems: string[] = [];
        const app = env.b("alpha").app;
        if (!(await env.canLogin(app, await env.appPassword("alpha")))) problems.push(`${app}: the password tenancy credentials gives no longer logs in after the apply`);
        if (await env.canLogin(app, "attacker-chosen-password")) problems.push(`${app}: the attacker's own password still logs in after the apply`);
        return problems;
      },
      async cleanup(env) {
        // What the next phases need when the apply did not converge it: the SaaS's password back.
        if (!(await env.canLogin(env.b("alpha").app, await env.appPassword("alpha")))) await env.sql(`ALTER ROLE ${id(env.b("alpha").app)} PASSWORD ${lit(await env.appPassword("alpha"))}`);
        env.usePassword("alpha", undefined);
      },
    },
    {
      id: "A6 role settings of its own", cls: "availability", phase: "update", attacker: "alpha", targets: ["alpha"], names: ["alpha__app"],
      description: "ALTER ROLE current_user SET statement_timeout = 1, lock_timeout = 1, idle_session_timeout = 1, default_transaction_read_only, search_path: the admin must not inherit any of it",
      plant: (env) => asApp(env, "alpha", [
        "ALTER ROLE CURRENT_USER SET statement_timeout = 1", "ALTER ROLE CURRENT_USER SET lock_timeout = 1",
        "ALTER ROLE CURRENT_USER SET default_transaction_read_only = on", `ALTER ROLE CURRENT_USER SET search_path = ${id(env.b("alpha").schema)}, public`,
        "ALTER ROLE CURRENT_USER SET idle_session_timeout = 1",
      ]),
      check: async () => [], // the shared checks: alpha's update applied, nothing waited
      async cleanup(env) { await env.sql(`ALTER ROLE ${id(env.b("alpha").app)} RESET ALL`); },
    },
  );
  // ---- rotation: alpha's and bravo's credentials rotated ----
  cases.push(
    openTransactionCase({
      id: "A9 open transaction on its credentials table", phase: "rotation", attacker: "alpha", targets: ["alpha"], names: [CREDENTIALS_TABLE, "alpha__app"],
      description: "an idle app transaction holding ACCESS SHARE on alpha's credentials table during its rotation",
      sql: (env) => [`LOCK TABLE ${q(env.b("alpha"), CREDENTIALS_TABLE)} IN ACCESS SHARE MODE`],
    }),
    {
      id: "A10 connection exhaustion", cls: "availability", phase: "rotation", attacker: "alpha", targets: ["alpha", "bravo"], names: ["connection", "alpha__app"],
      description: "(16.4) the app opens every connection the server will give it before the rotation of alpha's and bravo's credentials",
      async plant(env) {
        // Last in the phase (see attack-availability.ts): afterwards nobody else logs in.
        let n = 0;
        let refused = "";
        for (; n < 150; n++) {
          try { await env.hold("A10 connection exhaustion", await env.login("alpha")); } catch (e) { refused = (e as Error).message; break; }
        }
        console.log(`A10: the app opened ${n} connections${refused ? `, then: ${refused}` : ""}`);
        return "planted";
      },
      async check(env) {
        const rows = await env.sql<{ rolname: string; rolconnlimit: number }>("SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%\\_\\_app' ORDER BY 1");
        const [max] = await env.sql<{ n: number }>("SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS n");
        return rows.filter((r) => r.rolconnlimit < 0 || r.rolconnlimit >= max!.n).map((r) => `${r.rolname} has CONNECTION LIMIT ${r.rolconnlimit} (the server gives ${max!.n})`);
      },
    },
  );
  // ---- refresh ----
  cases.push(
    {
      id: "A11 procedure before refresh", cls: "availability", phase: "refresh", attacker: "bravo", targets: ["bravo"], names: ["attack_rf_proc"],
      description: "(16.1) a procedure of bravo's granted to alpha's app before a refresh: the refresh succeeds and records the crossing in the state (the next apply takes it back)",
      plant: (env) => asApp(env, "bravo", [`CREATE PROCEDURE ${q(env.b("bravo"), "attack_rf_proc")}() LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON PROCEDURE ${q(env.b("bravo"), "attack_rf_proc")}() TO ${id(env.b("alpha").app)}`]),
      async check(env) {
        const state = await env.boundaryState("bravo");
        const recorded = JSON.stringify([state?.outsiders ?? [], state?.notTakenBack ?? []]);
        return recorded.includes("attack_rf_proc") ? [] : [`the refreshed state of bravo's boundary does not record the crossing procedure (outsiders: ${recorded.slice(0, 300)})`];
      },
      async cleanup(env) { await env.sql(`DROP PROCEDURE IF EXISTS ${q(env.b("bravo"), "attack_rf_proc")}()`); },
    },
    openTransactionCase({
      id: "A12 open transaction during refresh", phase: "refresh", attacker: "bravo", targets: ["bravo"], names: [CREDENTIALS_TABLE, "bravo__app"],
      description: "an idle app transaction holding ACCESS SHARE on bravo's credentials table and a lock on its schema during the refresh",
      sql: (env) => [`LOCK TABLE ${q(env.b("bravo"), CREDENTIALS_TABLE)} IN ACCESS SHARE MODE`, `CREATE TABLE ${q(env.b("bravo"), "attack_rf_tx")} (x int)`],
    }),
  );
  // ---- decommission: delta (the attacker's own) and charlie (another's) ----
  cases.push(
    grantCase({
      id: "A13 procedure before own decommission", cls: "availability", phase: "decommission", attacker: "delta", targets: ["delta"], marker: "attack_dc_proc",
      description: "(16.1) a procedure of delta's granted to PUBLIC before delta is decommissioned",
      sql: (a) => [`CREATE PROCEDURE ${q(a, "attack_dc_proc")}() LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON PROCEDURE ${q(a, "attack_dc_proc")}() TO PUBLIC`],
    }),
    grantCase({
      id: "I12 grant to a workspace being decommissioned", phase: "decommission", attacker: "alpha", targets: ["charlie"], marker: "attack_dc_fn",
      description: "a function of alpha's granted to charlie's roles before charlie is decommissioned",
      sql: (a, env) => [`CREATE FUNCTION ${q(a, "attack_dc_fn")}() RETURNS int LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON FUNCTION ${q(a, "attack_dc_fn")}() TO ${env.b("charlie").roles.map(id).join(", ")}`],
    }),
    {
      id: "I13 decommissioned app still logs in", cls: "integrity", phase: "decommission", attacker: "delta", targets: ["delta"], names: [],
      description: "a decommissioned workspace's app keeps a session open and logging in (it must not reach anything outside its workspace)",
      async plant(env) { await env.hold("I13 decommissioned app still logs in", await env.login("delta")); return "planted"; },
      check: taken("delta", "acme__"),
    },
  );
  // ---- delete: delta (the attacker's own) and charlie (another's) ----
  cases.push(
    {
      id: "A14 large object in postgres granted to another workspace", cls: "availability", phase: "delete", attacker: "alpha", targets: ["charlie"], names: ["large object", "424242", "postgres"],
      description: "(16.2) alpha's app creates a large object in database postgres and grants it to charlie's roles: charlie's deletion is all or nothing",
      plant: (env) => asApp(env, "alpha", ["SELECT pg_catalog.lo_create(424242)", `GRANT SELECT, UPDATE ON LARGE OBJECT 424242 TO ${env.b("charlie").roles.map(id).join(", ")}`], "postgres"),
      check: async () => [], // all-or-nothing is the shared check; what is left in postgres for a deleted charlie is A16's concern
      async cleanup(env) { await (await env.suIn("postgres")).query("SELECT lo_unlink(424242) FROM pg_largeobject_metadata WHERE oid = 424242"); },
    },
    {
      id: "A15 large object in template1 owned by itself", cls: "availability", phase: "delete", attacker: "delta", targets: ["delta"], names: ["large object", "template1", "delta__app"],
      description: "delta's app owns a large object in template1 (copied into every new database) before its own deletion",
      plant: (env) => asApp(env, "delta", ["SELECT pg_catalog.lo_create(434343)"], "template1"),
      // Dropped roles own nothing anywhere: all-or-nothing (the shared check) is the whole judgement.
      check: async () => [],
      async cleanup(env) { await (await env.suIn("template1")).query("SELECT lo_unlink(434343) FROM pg_largeobject_metadata WHERE oid = 434343"); },
    },
    {
      id: "A16 default privileges in postgres", cls: "availability", phase: "delete", attacker: "delta", targets: ["delta"], names: ["default privileges", "postgres", "delta__app"],
      description: "delta's app records default privileges of its own in database postgres (a shared dependency DROP ROLE trips over)",
      plant: (env) => asApp(env, "delta", [`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO ${id(env.b("bravo").app)}`], "postgres"),
      check: async () => [],
      async cleanup(env) {
        const su = await env.suIn("postgres");
        const roles = (await su.query<{ r: string }>("SELECT rolname AS r FROM pg_roles WHERE rolname = ANY($1)", [env.b("delta").roles])).rows;
        for (const { r } of roles) await su.query(`DROP OWNED BY ${id(r)}`).catch(() => {});
      },
    },
    {
      id: "A17 temporary table in postgres", cls: "availability", phase: "delete", attacker: "delta", targets: ["delta"], names: ["postgres", "delta__app", "temp"],
      description: "a live session of delta's app keeps a temporary table in database postgres through its own deletion",
      async plant(env) {
        const c = await env.login("delta", "postgres").catch((e: unknown) => { if (refusedLogin(e)) return undefined; throw e; });
        if (!c) return "denied"; // the embedded default closes postgres (I4)
        const r = await c.query("CREATE TEMP TABLE attack_tmp (x int)").then(() => "planted" as const, (e: { code?: string }) => { if (e.code === "42501") return "denied" as const; throw e; });
        if (r === "planted") await env.hold("A17 temporary table in postgres", c);
        else await c.end();
        return r;
      },
      check: async () => [],
    },
    openTransactionCase({
      id: "A18 open transaction on own credentials table at delete", phase: "delete", attacker: "delta", targets: ["delta"], names: [CREDENTIALS_TABLE, "delta__app"],
      description: "an idle app transaction holding ACCESS SHARE on delta's credentials table: DROP SCHEMA at its deletion waits",
      sql: (env) => [`LOCK TABLE ${q(env.b("delta"), CREDENTIALS_TABLE)} IN ACCESS SHARE MODE`],
    }),
    openTransactionCase({
      id: "A19 open transaction on own schema at delete", phase: "delete", attacker: "delta", targets: ["delta"], names: ["delta__app", "acme__delta"],
      description: "an idle app transaction that created a table in delta's schema (a lock on the schema) during its deletion",
      sql: (env) => [`CREATE TABLE ${q(env.b("delta"), "attack_del_tx")} (x int)`],
    }),
    openTransactionCase({
      id: "A20 open transaction granting to another workspace at delete", phase: "delete", attacker: "alpha", targets: ["charlie"], names: ["alpha__app", "charlie__app"],
      description: "an idle transaction of alpha's app that granted its table to charlie's app (a lock on charlie's role): DROP ROLE at charlie's deletion waits",
      sql: (env) => [`CREATE TABLE ${q(env.b("alpha"), "attack_del_grant")} (x int)`, `GRANT SELECT ON ${q(env.b("alpha"), "attack_del_grant")} TO ${id(env.b("charlie").app)}`],
    }),
    grantCase({
      id: "A21 procedure to a workspace being deleted", cls: "availability", phase: "delete", attacker: "alpha", targets: ["charlie"], marker: "attack_del_proc",
      description: "(16.1) a procedure of alpha's granted to charlie's roles before charlie's deletion",
      sql: (a, env) => [`CREATE PROCEDURE ${q(a, "attack_del_proc")}() LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON PROCEDURE ${q(a, "attack_del_proc")}() TO ${env.b("charlie").roles.map(id).join(", ")}`],
    }),
    {
      id: "A22 procedure of its own before own deletion", cls: "availability", phase: "delete", attacker: "delta", targets: ["delta", "charlie"], names: ["attack_del_own"],
      description: "(16.1) a procedure of delta's granted to PUBLIC and to alpha's app before delta's deletion (and charlie's, in the same run): deleted whole or refused whole",
      plant: (env) => asApp(env, "delta", [`CREATE PROCEDURE ${q(env.b("delta"), "attack_del_own")}() LANGUAGE sql AS $$SELECT 1$$`, `GRANT EXECUTE ON PROCEDURE ${q(env.b("delta"), "attack_del_own")}() TO PUBLIC, ${id(env.b("alpha").app)}`]),
      check: async () => [],
    },
  );
  return cases;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
