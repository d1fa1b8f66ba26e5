// The runner of the availability and integrity classes (cases: attack-cases-availability.ts).
// One throwaway stack with workspaces alpha..delta (echo and foxtrot are created on the way);
// one engine operation per phase, every case of the phase planted right before it. After it,
// besides each case's own check, every case shares three judgements made with this file's own
// SQL as the superuser:
// - nothing half-applied: each workspace a case targets is, in tenancy_control, its schema, its
//   roles (with LOGIN) and its credentials rows, either exactly as declared now, or (only when
//   the run failed) exactly as before the run (the app role also with LOGIN and CONNECT);
// - no wait longer than the bound: a watchdog polls pg_locks every second; an admin session
//   waiting more than lockBoundMs (the lock_timeout the phase runs with, LOCK_TIMEOUT_MS or the
//   default, plus a margin) on a lock held by a planted session is a breach of that case,
//   and the session is then ended so the run can finish (on code that would wait forever);
// - a failed run fails in one clear line (cli/engine-errors.ts firstErrorLine, what `tenancy
//   apply` prints), with no raw control character, naming something a live case planted.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditState, loadValidDeclaration } from "../../audit/audit.ts";
import { formatMarkdown, formatText } from "../../audit/format.ts";
import { readPostgres } from "../../audit/read-postgres.ts";
import { firstErrorLine } from "../../cli/engine-errors.ts";
import { escapeText } from "../../components/escape.ts";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";
import { boundaryOf, type Boundary, type Sql } from "./attack-catalog.ts";
import { allCases, KNOWN_BREACHES, PHASES, TIMING_DEPENDENT, type AttackClass, type Case, type Env, type Phase } from "./attack-cases-availability.ts";
import { appPasswords, declaration, serverOf, type Server } from "./attack-harness.ts";
import { createHarness, type Harness } from "./harness.ts";
import { SESSION_DEFAULTS } from "../../provider/postgres/client.ts";

const ORG = "acme";
/**
 * The admin's lock_timeout in this stack's runs (TENANCY_PG_LOCK_TIMEOUT_MS, which the engine
 * passes to the provider), short so that the refusals this test provokes take seconds, not
 * lock_timeout after lock_timeout; DEFAULT_BOUND_PHASES run with the provider's default instead.
 */
export const LOCK_TIMEOUT_MS = 5_000;
/** Phases run with the default lock_timeout (SESSION_DEFAULTS, 30 s), so the default stays exercised. */
export const DEFAULT_BOUND_PHASES: readonly Phase[] = ["delete"];
/** Longest an admin session may wait on a lock a workspace holds: the configured lock_timeout plus a margin for the watchdog's polling. */
export const lockBoundMs = (lockTimeoutMs: number) => lockTimeoutMs + Math.max(5_000, lockTimeoutMs / 2);
/** Longest one engine run may take, waits on planted locks not counted. */
export const RUN_BOUND_MS = 240_000;
const ALL = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"] as const;
const B: Record<string, Boundary> = Object.fromEntries(ALL.map((s) => [s, boundaryOf(ORG, s)]));
const id = (s: string) => `"${s.replace(/"/g, '""')}"`;
// Raw control characters and bidi/invisible format characters: none may reach a printed line.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

interface Declared {
  workspaces: string[];
  decommissioned: string[];
  members: Record<string, Record<string, string>>;
  integrations: Record<string, [string, string, string][]>;
  secrets: Record<string, string>;
}

/** What each phase changes in the declaration, and how it runs the engine. */
const CHANGES: Record<Phase, { what: string; change(d: Declared): void; refresh?: boolean }> = {
  create: { what: "alpha's first integration (its own create), workspace echo (another's)", change(d) {
    d.integrations.alpha = [["drive", "google-drive", "alphaDrive"]]; d.secrets.alphaDrive = "alpha-drive-v1"; d.workspaces.push("echo");
  } },
  "create-locked": { what: "workspace foxtrot, bravo's first integration, alpha's credential rotated", change(d) {
    d.workspaces.push("foxtrot"); d.integrations.bravo = [["slack", "slack", "bravoSlack"]]; d.secrets.bravoSlack = "bravo-slack-v1"; d.secrets.alphaDrive = "alpha-drive-v2";
  } },
  update: { what: "alpha's and bravo's members", change(d) { d.members.alpha = { "ben@acme.test": "editor" }; d.members.bravo = { "chloe@acme.test": "viewer" }; } },
  rotation: { what: "alpha's and bravo's credentials rotated", change(d) { d.secrets.alphaDrive = "alpha-drive-v3"; d.secrets.bravoSlack = "bravo-slack-v2"; } },
  refresh: { what: "a refresh", change() {}, refresh: true },
  decommission: { what: "delta (its own) and charlie (another's) decommissioned", change(d) { d.decommissioned.push("delta", "charlie"); } },
  delete: { what: "delta (its own) and charlie (another's) deleted", change(d) { d.workspaces = d.workspaces.filter((s) => s !== "delta" && s !== "charlie"); } },
};

type Outcome = "denied when planted" | "refused" | "held" | "breached";
interface Verdict { readonly id: string; readonly cls: AttackClass; readonly phase: Phase; outcome: Outcome; problems: string[] }
interface RunRecord { readonly phase: Phase; readonly ms: number; readonly failed: boolean; readonly line?: string; readonly waitedMs: number }

const yaml = (d: Declared) => declaration({ org: ORG, workspaces: d.workspaces, decommissioned: d.decommissioned, members: d.members, integrations: d.integrations });

/** One workspace as the catalogs show it: the fields deletion and every apply must keep consistent. */
async function stateOf(sql: Sql, slug: string): Promise<Record<string, string>> {
  const b = B[slug]!;
  const [r] = await sql<Record<string, string>>(`SELECT
      coalesce((SELECT CASE WHEN decommissioned THEN 'decommissioned' ELSE 'active' END FROM tenancy_control.workspaces WHERE organization_slug = $1 AND slug = $2), 'absent') AS record,
      coalesce((SELECT string_agg(email || ':' || role, ',' ORDER BY email) FROM tenancy_control.memberships WHERE organization_slug = $1 AND workspace_slug = $2), '') AS members,
      coalesce((SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = $3), 'absent') AS schema,
      coalesce((SELECT string_agg(rolname || CASE WHEN rolcanlogin THEN '+LOGIN' ELSE '' END
        || CASE WHEN rolname = $5 AND has_database_privilege(oid, current_database(), 'CONNECT') THEN '+CONNECT' ELSE '' END, ',' ORDER BY rolname) FROM pg_roles WHERE rolname = ANY($4)), '') AS roles`,
    [ORG, slug, b.schema, b.roles, b.app]);
  const table = `${id(b.schema)}.${id(CREDENTIALS_TABLE)}`;
  const [t] = await sql<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [table]);
  // The toolkit's own table (its owner role, no hooks: attack-catalog checks that elsewhere), read as the superuser.
  const rows = t?.ok ? await sql<{ slug: string }>(`SELECT slug FROM ${table} ORDER BY slug`) : undefined;
  return { ...r!, credentials: rows ? rows.map((x) => x.slug).join(",") || "(none)" : "absent" };
}

function expectedOf(d: Declared, slug: string): Record<string, string> {
  const b = B[slug]!;
  if (!d.workspaces.includes(slug)) return { record: "absent", members: "", schema: "absent", roles: "", credentials: "absent" };
  const members = { "ana@acme.test": "admin", ...(d.members[slug] ?? {}) };
  return {
    record: d.decommissioned.includes(slug) ? "decommissioned" : "active",
    members: Object.entries(members).sort(([a], [c]) => a.localeCompare(c)).map(([e, r]) => `${e}:${r}`).join(","),
    schema: b.owner,
    roles: [`${b.app}+LOGIN+CONNECT`, b.owner, b.readonly].join(","),
    credentials: (d.integrations[slug] ?? []).map((i) => i[0]).sort().join(",") || "(none)",
  };
}

const differs = (a: Record<string, string>, b: Record<string, string>) => Object.keys(b).filter((k) => a[k] !== b[k]);

export function describeAvailabilityAndIntegrity(): void {
  describe("availability and integrity: a hostile workspace cannot jam, hijack or outlive the toolkit", () => {
    let h: Harness;
    let server: Server;
    let sql: Sql;
    let su: { user: string; password: string };
    const d: Declared = { workspaces: ["alpha", "bravo", "charlie", "delta"], decommissioned: [], members: {}, integrations: {}, secrets: {} };
    const verdicts = new Map<string, Verdict>();
    const runs: RunRecord[] = [];
    const standing: Case[] = [];
    let passwords: Record<string, string> = {};
    const overrides: Record<string, string> = {};
    const suClients = new Map<string, pg.Client>();
    let phaseClients: pg.Client[] = [];
    let held = new Map<number, { caseId: string; client: pg.Client; role: string }>();
    let printed = "";

    const connect = async (user: string, password: string, database: string) => {
      const c = new pg.Client({ host: h.server.host, port: h.server.port, user, password, database, connectionTimeoutMillis: 10_000 });
      c.on("error", () => {});
      c.on("notice", () => {});
      await c.connect();
      return c;
    };

    const env: Env = {
      get sql() { return sql; },
      get database() { return h.server.database; },
      b: (slug) => B[slug]!,
      async login(slug, database) {
        const password = overrides[slug] ?? (await env.appPassword(slug));
        const c = await connect(B[slug]!.app, password, database ?? h.server.database);
        phaseClients.push(c);
        return c;
      },
      async suIn(database) {
        let c = suClients.get(database);
        if (!c) { c = await connect(su.user, su.password, database); suClients.set(database, c); }
        return c;
      },
      async hold(caseId, client) {
        const [r] = (await client.query<{ pid: number; role: string }>("SELECT pg_backend_pid() AS pid, current_user AS role")).rows;
        held.set(r!.pid, { caseId, client, role: r!.role });
      },
      usePassword(slug, password) { if (password === undefined) delete overrides[slug]; else overrides[slug] = password; },
      async appPassword(slug) {
        if (!(slug in passwords)) passwords = await appPasswords(h);
        return passwords[slug]!;
      },
      async canLogin(user, password) {
        try { await (await connect(user, password, h.server.database)).end(); return true; } catch { return false; }
      },
      printed: () => printed,
      async asDeclared(slug) {
        const after = await stateOf(sql, slug);
        const expected = expectedOf(d, slug);
        return differs(after, expected).map((k) => `workspace ${slug} is not as declared after the apply: ${k} ${JSON.stringify(after[k])} (declared ${JSON.stringify(expected[k])})`);
      },
      async boundaryState(slug) {
        const state = await h.stack.exportStack();
        const resources = (state.deployment.resources ?? []) as { type: string; outputs?: Record<string, unknown> }[];
        return resources.find((r) => r.type === "tenancy:postgres:WorkspaceBoundary" && r.outputs?.workspace === slug)?.outputs;
      },
      async audit() {
        const loaded = loadValidDeclaration(yaml(d), "tenancy.yaml");
        if ("errors" in loaded) throw new Error(loaded.errors.join("; "));
        // As the admin, like `tenancy audit --stack`: what the operator sees.
        const admin = await connect(h.server.user, h.server.password, h.server.database);
        try {
          const result = auditState(loaded, (await readPostgres(admin, ORG)).state);
          return { printed: formatMarkdown(result) + formatText(result), findings: result.findings.map((f) => `${f.class}: ${f.message}`) };
        } finally {
          await admin.end();
        }
      },
    };

    /** Polls the admin's lock waits during a run; ends a planted session the admin waited on too long. */
    function watchdog(phase: Phase, bound: number, waits: Map<string, string[]>, blockers: Set<string>): { stop(): Promise<number> } {
      let waitedMs = 0;
      let busy = Promise.resolve();
      const tick = async () => {
        // pg_locks.waitstart: how long this wait has lasted, whatever the polling saw of it.
        const rows = (await server.su.query<{ pid: number; blockers: number[]; what: string; waited: number }>(`
          SELECT a.pid, pg_blocking_pids(a.pid) AS blockers,
                 coalesce(l.locktype || ' ' || coalesce(l.relation::regclass::text, l.objid::text, '') || ' ' || l.mode, a.wait_event) AS what,
                 coalesce(extract(epoch FROM clock_timestamp() - l.waitstart) * 1000, 0)::int AS waited
          FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
          WHERE a.usename = $1 AND a.wait_event_type = 'Lock'`, [h.server.user])).rows;
        for (const r of rows) {
          for (const blocker of r.blockers) {
            const planted = held.get(blocker);
            if (!planted) continue;
            blockers.add(planted.caseId);
            if (r.waited < bound) continue;
            const list = waits.get(planted.caseId) ?? [];
            list.push(`${phase}: the admin waited over ${bound / 1000} s on ${r.what} held by ${planted.role} (ended by the test)`);
            waits.set(planted.caseId, list);
            waitedMs += r.waited;
            held.delete(blocker);
            await server.su.query("SELECT pg_terminate_backend($1)", [blocker]);
          }
        }
      };
      const timer = setInterval(() => { busy = busy.then(tick).catch(() => {}); }, 1000);
      return { async stop() { clearInterval(timer); await busy; return waitedMs; } };
    }

    async function runPhase(phase: Phase): Promise<void> {
      const cases = allCases(h.server.database).filter((c) => c.phase === phase);
      const planted = new Map<string, "planted" | "denied" | string>();
      for (const c of cases) {
        try {
          planted.set(c.id, await c.plant(env));
        } catch (error) {
          planted.set(c.id, `planting failed: ${(error as Error).message.split("\n")[0]}`);
        }
      }
      const before: Record<string, Record<string, string>> = {};
      for (const s of ALL) before[s] = await stateOf(sql, s);
      const change = CHANGES[phase];
      change.change(d);
      await h.writeDeclaration(yaml(d));
      await h.stack.setAllConfig(Object.fromEntries(Object.entries(d.secrets).map(([k, v]) => [k, { value: v, secret: true }])));
      const lockTimeoutMs = DEFAULT_BOUND_PHASES.includes(phase) ? SESSION_DEFAULTS.lockTimeoutMs : LOCK_TIMEOUT_MS;
      if (DEFAULT_BOUND_PHASES.includes(phase)) delete h.stack.workspace.envVars.TENANCY_PG_LOCK_TIMEOUT_MS;
      else h.stack.workspace.envVars.TENANCY_PG_LOCK_TIMEOUT_MS = String(LOCK_TIMEOUT_MS);
      const waits = new Map<string, string[]>();
      // Cases whose planted sessions the admin waited on (any time): a failure or a half-applied
      // workspace is theirs when they aim at it; otherwise it is every aiming case's.
      const blockers = new Set<string>();
      const dog = watchdog(phase, lockBoundMs(lockTimeoutMs), waits, blockers);
      const output: string[] = [];
      const onOutput = (s: string) => { output.push(s); };
      const started = Date.now();
      let error: string | undefined;
      try {
        if (change.refresh) await h.stack.refresh({ onOutput });
        else await h.stack.up({ continueOnError: true, onOutput });
      } catch (e) {
        const result = (e as { commandResult?: { stdout?: string; stderr?: string } }).commandResult;
        error = result ? `${result.stderr ?? ""}\n${result.stdout ?? ""}` : String((e as Error).message ?? e);
      }
      const ms = Date.now() - started;
      const waitedMs = await dog.stop();
      const line = error === undefined ? undefined : firstErrorLine(error) ?? "(no error line)";
      printed = `${output.join("")}\n${error ?? ""}`;
      // Every distinct error line, escaped, for the report (the first is what `tenancy apply` prints).
      if (error !== undefined) for (const l of [...new Set(error.split("\n").filter((x) => /error:/i.test(x)).map((x) => x.trim()))].slice(0, 10)) console.log(`  | ${escapeText(l.slice(0, 600))}`);
      runs.push({ phase, ms, failed: error !== undefined, waitedMs, ...(line !== undefined ? { line } : {}) });
      console.log(`availability/integrity ${phase} (${change.what}, lock_timeout ${lockTimeoutMs / 1000} s): ${error === undefined ? "succeeded" : "FAILED"} in ${(ms / 1000).toFixed(1)} s${line ? `\n  ${escapeText(line)}` : ""}`);

      // The planted sessions end first: the checks log in (the audit as the admin, probes as the app).
      for (const [pid] of held) await server.su.query("SELECT pg_terminate_backend($1)", [pid]).catch(() => {});
      held = new Map();
      await Promise.all(phaseClients.map((c) => c.end().catch(() => {})));
      phaseClients = [];

      // The judgements every case of the phase shares.
      const global: string[] = [];
      let unnamed: string | undefined;
      if (ms - waitedMs > RUN_BOUND_MS) global.push(`${phase}: the run took ${Math.round(ms / 1000)} s (bound ${RUN_BOUND_MS / 1000} s)`);
      if (line !== undefined) {
        if (CONTROL.test(line)) global.push(`${phase}: the error line carries a raw control character: ${JSON.stringify(line)}`);
        const named = cases.some((c) => planted.get(c.id) === "planted" && c.names.some((n) => line.includes(n)));
        if (!named) unnamed = `${phase}: the run failed without naming what a planted case did: ${JSON.stringify(line.slice(0, 300))}`;
      }
      const perWorkspace = new Map<string, string[]>();
      for (const slug of ALL) {
        const after = await stateOf(sql, slug);
        const expected = expectedOf(d, slug);
        const off = differs(after, expected);
        if (off.length === 0) continue;
        if (error !== undefined && differs(after, before[slug]!).length === 0) continue; // refused whole
        const problem = `${phase}: workspace ${slug} is ${error === undefined ? "not as declared after a successful run" : "half-applied"}: ${off.map((k) => `${k} ${JSON.stringify(before[slug]![k])} -> ${JSON.stringify(after[k])} (declared ${JSON.stringify(expected[k])})`).join("; ")}`;
        // A workspace no case of the phase aims at counts against all of them.
        if (cases.some((c) => c.targets.includes(slug))) perWorkspace.set(slug, [problem]);
        else global.push(problem);
      }

      const blamed = (c: Case, aimsAt: (x: Case) => boolean) => aimsAt(c) && (!cases.some((x) => blockers.has(x.id) && aimsAt(x)) || blockers.has(c.id));
      for (const c of [...cases, ...standing]) {
        const p = planted.get(c.id) ?? "planted";
        const earlier = c.phase !== phase; // a standing case of an earlier phase: only its own check
        const problems = p === "planted" || p === "denied" ? [] : [p];
        // A check that throws is a problem of its case, not the end of the phase (the cleanup must run).
        const found = await c.check(env).catch((e: Error) => [`the check failed: ${e.message.split("\n")[0]}`]);
        if (p !== "denied" || c.id.startsWith("I11")) problems.push(...found.map((x) => `${phase}: ${x}`));
        if (!earlier) {
          problems.push(...(waits.get(c.id) ?? []), ...global);
          if (unnamed !== undefined && blamed(c, () => true)) problems.push(unnamed);
          // A half-applied workspace counts against every case aiming at it (which one caused it
          // depends on timing; the watchdog's view of it is not reliable under load).
          for (const t of c.targets) problems.push(...(perWorkspace.get(t) ?? []));
        }
        const prior = verdicts.get(c.id);
        // Problems quote catalog names (some planted to forge output): escaped like every printed name.
        const all = [...(prior?.problems ?? []), ...problems.map(escapeText)];
        const outcome: Outcome = p === "denied" && all.length === 0 ? "denied when planted" : all.length > 0 ? "breached"
          : line !== undefined && c.names.some((n) => line.includes(n)) ? "refused" : prior?.outcome ?? "held";
        verdicts.set(c.id, { id: c.id, cls: c.cls, phase: c.phase, outcome, problems: all });
      }
      standing.push(...cases.filter((c) => c.standing && planted.get(c.id) === "planted"));

      // Undo what the phase planted, so the next one is judged on its own.
      for (const c of cases) await c.cleanup?.(env).catch((e: Error) => console.log(`cleanup of ${c.id}: ${e.message}`));

      const mine = [...cases, ...standing.filter((c) => c.phase !== phase)];
      for (const c of mine.filter((x) => TIMING_DEPENDENT.includes(x.id))) {
        const v = verdicts.get(c.id)!;
        console.log(`  timing-dependent case ${c.id}: ${v.outcome}${v.problems.length > 0 ? `: ${v.problems.join(" | ")}` : ""}`);
      }
      const unexpected = Object.fromEntries(mine.filter((c) => !KNOWN_BREACHES.includes(c.id) && !TIMING_DEPENDENT.includes(c.id) && verdicts.get(c.id)!.problems.length > 0).map((c) => [c.id, verdicts.get(c.id)!.problems]));
      const stoppedBreaching = mine.filter((c) => KNOWN_BREACHES.includes(c.id) && verdicts.get(c.id)!.problems.length === 0).map((c) => `${c.id}: listed in KNOWN_BREACHES but held; remove it there`);
      for (const c of mine.filter((x) => KNOWN_BREACHES.includes(x.id))) {
        const v = verdicts.get(c.id)!;
        if (v.problems.length > 0) console.log(`  known breach still breaching: ${c.id}: ${v.problems.join(" | ")}`);
      }
      expect({ breaches: unexpected, stoppedBreaching }).toEqual({ breaches: {}, stoppedBreaching: [] });
    }

    beforeAll(async () => {
      h = await createHarness("attacks-av", yaml(d));
      server = await serverOf(h);
      sql = async (text, params) => (await server.su.query(text, params)).rows;
      su = JSON.parse(await readFile(join(dirname(h.declaration), ".tenancy", "postgres", "superuser.json"), "utf8")) as { user: string; password: string };
      await h.stack.up({ continueOnError: true });
      passwords = await appPasswords(h);
    });

    afterAll(async () => {
      const all = [...verdicts.values()];
      for (const cls of ["availability", "integrity"] as const) {
        const mine = all.filter((v) => v.cls === cls);
        const n = (o: Outcome) => mine.filter((v) => v.outcome === o).length;
        console.log(`attacks (${cls}): ${mine.length} tried, ${mine.length - n("breached")} blocked (denied when planted ${n("denied when planted")}, refused ${n("refused")}, held ${n("held")}), breached ${n("breached")}`);
      }
      const refused = runs.filter((r) => r.failed).sort((a, b) => b.ms - a.ms)[0];
      const slowest = [...runs].sort((a, b) => b.ms - a.ms)[0];
      console.log(`attacks (availability/integrity): slowest refused apply ${refused ? `${(refused.ms / 1000).toFixed(1)} s (${refused.phase})` : "none (no apply refused)"}; slowest apply ${slowest ? `${(slowest.ms / 1000).toFixed(1)} s (${slowest.phase}, ${(slowest.waitedMs / 1000).toFixed(0)} s of it on planted locks)` : "-"}`);
      for (const v of all.filter((x) => x.outcome === "breached")) console.log(`  breached: ${v.id} @ ${v.phase}${KNOWN_BREACHES.includes(v.id) ? " (known)" : TIMING_DEPENDENT.includes(v.id) ? " (timing-dependent)" : ""}\n    ${v.problems.join("\n    ")}`);
      for (const c of suClients.values()) await c.end().catch(() => {});
      await Promise.all(phaseClients.map((c) => c.end().catch(() => {})));
      await server?.close();
      await h?.dispose();
    });

    for (const phase of PHASES) {
      it(`${phase}: ${CHANGES[phase].what}, with this phase's cases planted`, () => runPhase(phase), 20 * 60_000);
    }
  });
}
