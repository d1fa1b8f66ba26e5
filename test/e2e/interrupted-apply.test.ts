// Issue 8, item 5: interrupted applies, on the real engine and a real PostgreSQL.
//
// Five organizations on one server, each its own stack. Each gets two applies, both killed with
// SIGKILL at a seeded point: its first apply (30 workspaces created) and then a change (three
// decommissioned workspaces deleted, three created, every member list and several integrations
// changed). That is 10 kills; an 11th apply (a sixth organization's first) loses its server
// instead (`pg_ctl stop -m immediate`). A kill point is "after the N-th resource event" of the
// run (pre or outputs, any op), N drawn from a seed that is printed and can be replayed with
// TENANCY_KILL_SEED.
//
// After each kill: everything the dead engine started must exit by itself (the provider plugin
// and the program; the toolkit's language host does not, see README "Interrupted applies"), no
// workspace may be half-applied, an unrecovered `up` must fail with a clear line, and then the
// steps of README.md's "Interrupted applies" block are run exactly as written. After them: the
// state holds no pending operation or lock, a second `up` changes nothing, and the test's own
// catalog queries find exactly what every organization declares (roles, schemas, grants,
// control-plane rows, sealed credentials) and nothing else.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack, UpResult } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePostgres, ensureDemoSecrets, openStack } from "../../cli/engine.ts";
import { freePort } from "../../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { loadDeclaration } from "../../config/load.ts";
import type { Sql } from "./attack-catalog.ts";
import { root } from "./harness.ts";
import { checkOrganization, halfApplied, strangers } from "./interrupt-catalog.ts";
import {
  backendFiles, changedDeclaration, engineOf, errorLines, firstDeclaration, killSeed, recoverySteps, seeded, settle, shell,
  stackTraceLines, upInterruptedAt, type Declared,
} from "./interrupt-harness.ts";

const seed = killSeed();
const random = seeded(seed);
// A first apply of 30 workspaces emits ~210 resource events, a change ~240: kill within the first 190.
const killAt = () => 1 + Math.floor(random() * 190);
const ORGS = ["k1", "k2", "k3", "k4", "k5"];
const ROUNDS = ORGS.flatMap((org) => (["first", "change"] as const).map((kind) => ({ org, kind, at: killAt() })));
const STOP = { org: "k6", at: killAt() };

/** Wall time between calls, by label: lap("x") ends a lap, lap() lists them. */
function laps(): (label?: string) => string {
  let last = Date.now();
  const done: string[] = [];
  return (label) => {
    if (label === undefined) return done.join(", ");
    done.push(`${label} ${((Date.now() - last) / 1000).toFixed(1)} s`);
    last = Date.now();
    return "";
  };
}

/** " (creating 2, updating 1)" from "op name" lines; "" when none. */
const pendingKinds = (pending: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const p of pending) counts.set(p.split(" ")[0]!, (counts.get(p.split(" ")[0]!) ?? 0) + 1);
  return counts.size ? ` (${[...counts].map(([op, n]) => `${op} ${n}`).join(", ")})` : "";
};

const changed = (r: UpResult) => Object.fromEntries(Object.entries(r.summary.resourceChanges ?? {}).filter(([op, n]) => op !== "same" && n));

describe("interrupted applies: 30 workspaces, SIGKILL at 10 seeded points and the server stopped once", () => {
  let dir: string;
  let port: number;
  let server: LocalPostgres;
  let superuser: { user: string; password: string };
  let client: pg.Client;
  const sql: Sql = async (text, params) => (await client.query(text, params)).rows;
  const stacks = new Map<string, Stack>();
  const current = new Map<string, Declared>();
  const lines: string[] = [];
  let survived = { kills: 0, stops: 0 };
  let orphans = 0;

  async function connect(): Promise<void> {
    client = new pg.Client({ host: server.host, port: server.port, user: superuser.user, password: superuser.password, database: server.database });
    client.on("error", () => {}); // the server is stopped under it once
    await client.connect();
  }

  /** Writes `d` as its organization's declaration (opening the stack on first use) with its secrets. */
  async function declare(d: Declared): Promise<Stack> {
    const file = join(dir, `${d.org}.yaml`);
    await writeFile(file, d.text);
    let stack = stacks.get(d.org);
    if (!stack) {
      stack = (await openStack({ root, stack: `e2e-interrupt-${d.org}-${process.pid}`, backendUrl: `file://${dir}` })).stack;
      await configurePostgres(stack, server);
      await stack.setConfig("tenancy:declaration", { value: file });
      stacks.set(d.org, stack);
    }
    const loaded = loadDeclaration(d.text, file);
    if (!loaded.ok || !loaded.model) throw new Error(`the generated declaration of ${d.org} must load`);
    await ensureDemoSecrets(stack, loaded.model);
    return stack;
  }

  /** README's recovery, step by step; then no pending operation or lock, and a second `up` that changes nothing. */
  async function recoverAndConverge(stack: Stack): Promise<string> {
    const env = { ...stack.workspace.envVars, STACK: stack.name, STATE: dir };
    const timings: string[] = [];
    for (const line of await recoverySteps()) {
      const step = await shell(line, env);
      expect(step.ok, `recovery step \`${line}\` failed:\n${errorLines(step.output).join("\n")}\n${step.output.slice(-1500)}`).toBe(true);
      expect(stackTraceLines(step.output)).toEqual([]);
      timings.push(`${line.split(" ").slice(0, 2).join(" ")} ${(step.ms / 1000).toFixed(1)} s`);
    }
    const files = await backendFiles(dir, stack.name);
    expect(files).toEqual({ emptyAttrs: [], locks: 0, pending: [] });
    const second = await stack.up();
    expect(second.summary.result).toBe("succeeded");
    expect(changed(second), "a second up after the recovery must change nothing").toEqual({});
    return timings.join(", ");
  }

  /** Every organization against its declaration (deep for `focus`), and no stranger anywhere. */
  async function catalogClean(focus: string): Promise<void> {
    const found: string[] = [];
    for (const d of current.values()) {
      const f = await checkOrganization(sql, d, server.database, d.org === focus);
      orphans += f.orphans.length;
      found.push(...f.orphans.map((x) => `${d.org}: orphan ${x}`), ...f.missing.map((x) => `${d.org}: missing ${x}`));
    }
    const extra = await strangers(sql, [...current.values()]);
    orphans += extra.length;
    found.push(...extra.map((x) => `orphan ${x}`));
    expect(found).toEqual([]);
  }

  beforeAll(async () => {
    console.log(`interrupted applies: kill seed ${seed} (replay with TENANCY_KILL_SEED=${seed}); kill points ${ROUNDS.map((r) => r.at).join(", ")}; server stop at ${STOP.at}`);
    dir = await mkdtemp(join(tmpdir(), "tenancy-e2e-interrupt-"));
    await chmod(dir, 0o755);
    port = await freePort();
    const su = await ensureLocalPostgres({ root: dir, port });
    superuser = { user: su.user, password: su.password };
    server = await ensureAdminRole(dir, su);
    await connect();
  });

  afterAll(async () => {
    for (const line of lines) console.log(line);
    console.log(`interrupted applies: ${survived.kills} kills + ${survived.stops} server stop survived; ${orphans} orphans found`);
    await client?.end().catch(() => {});
    for (const stack of stacks.values()) await stack.workspace.removeStack(stack.name, { force: true }).catch(() => {});
    if (dir) {
      await stopLocalPostgres({ root: dir, port }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  ROUNDS.forEach(({ org, kind, at }, i) => {
    it(`kill ${i + 1}: the ${kind} apply of ${org}, SIGKILL after resource event ${at}, recovers and converges`, async () => {
      const started = Date.now();
      const before = current.get(org);
      const after = kind === "first" ? firstDeclaration(org) : changedDeclaration(org);
      const stack = await declare(after);
      const lap = laps();

      const run = await upInterruptedAt(stack, at, () => {
        const found = engineOf(stack.name);
        process.kill(found.engine.pid, "SIGKILL");
        return found;
      });
      expect(run.interrupted, `the apply ended after ${run.events} resource events, before the kill point ${at}`).toBe(true);
      expect(run.error, "a killed apply must fail").toBeDefined();
      const killed = run.interruptResult as ReturnType<typeof engineOf>;
      lap("killed up");

      // What the dead engine started: the provider plugin and the program exit by themselves.
      const settled = await settle(killed);
      expect(settled.strays, "processes of the killed engine still running").toEqual([]);

      // Before any recovery: nothing is half-applied (each resource is one transaction).
      const onDisk = await backendFiles(dir, stack.name);
      expect(await halfApplied(sql, before, after, server.database)).toEqual([]);
      current.set(org, after);

      // An unrecovered `up` refuses with a clear line (the lock, or the broken state write).
      const env = { ...stack.workspace.envVars, STACK: stack.name, STATE: dir };
      const probe = await shell(`pulumi up --yes --skip-preview --stack "$STACK"`, env);
      expect(probe.ok, "an up over a killed run's lock must refuse").toBe(false);
      expect(stackTraceLines(probe.output)).toEqual([]);
      const refusal = errorLines(probe.output);
      expect(refusal.length).toBeGreaterThan(0);

      lap("checks");
      const timings = await recoverAndConverge(stack);
      lap("recovery + second up");
      await catalogClean(org);
      lap("catalog");
      survived = { ...survived, kills: survived.kills + 1 };
      lines.push(`kill ${i + 1} (${org} ${kind}): SIGKILL at event ${at} (${run.events} seen); at the kill: ${onDisk.pending.length} pending operation(s)${pendingKinds(onDisk.pending)}` +
        `${onDisk.emptyAttrs.length ? `, empty ${onDisk.emptyAttrs.join(" ")}` : ""}, ${onDisk.locks} lock(s); ${settled.languageHosts} language host(s) left running (killed);` +
        ` unrecovered up: "${refusal[0]}"; recovery: ${timings}; round ${((Date.now() - started) / 1000).toFixed(0)} s (${lap()})`);
    }, 300_000);
  });

  it(`server stop: the first apply of ${STOP.org} loses its PostgreSQL after resource event ${STOP.at}, fails in clear lines, recovers and converges`, async () => {
    const started = Date.now();
    const after = firstDeclaration(STOP.org);
    const stack = await declare(after);
    const run = await upInterruptedAt(stack, STOP.at, () => stopLocalPostgres({ root: dir, port }, "immediate"));
    expect(run.interrupted, `the apply ended after ${run.events} resource events, before the stop at ${STOP.at}`).toBe(true);
    expect(run.interruptResult, "the server was running when stopped").toBe(true);
    expect(run.error, "an apply that lost its server must fail").toBeDefined();
    const output = `${run.error!.commandResult?.stdout ?? ""}\n${run.error!.commandResult?.stderr ?? ""}`;
    expect(stackTraceLines(output)).toEqual([]);
    const errors = errorLines(output);
    const connection = errors.filter((l) => /PostgreSQL|connect|terminat/i.test(l));
    expect(connection.length, `no error names the lost connection; errors:\n${errors.join("\n")}`).toBeGreaterThan(0);
    // Each distinct failure, with the resource-specific part folded, as a reader sees it.
    const distinct = [...new Set(errors.map((l) => l.replace(/\b(k6__)?ws[-_]\d+\b/g, "<ws>")))];

    await ensureLocalPostgres({ root: dir, port });
    await connect();
    current.set(STOP.org, after);
    const timings = await recoverAndConverge(stack);
    await catalogClean(STOP.org);
    survived = { ...survived, stops: survived.stops + 1 };
    lines.push(`server stop (${STOP.org} first): pg_ctl stop -m immediate at event ${STOP.at} (${run.events} seen); the failed up printed ${errors.length} error line(s), ` +
      `${distinct.length} distinct:\n  ${distinct.join("\n  ")}\n  recovery: ${timings}; round ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // The admin password never appears in what the failed run printed.
    expect(output.includes(server.password)).toBe(false);
  }, 300_000);
});
