// Issue 18: applies that skip the engine's per-step checkpoints, killed halfway.
//
// `tenancy apply` skips checkpoints (PULUMI_SKIP_CHECKPOINTS) only when the reviewed engine plan
// creates and keeps, nothing else (cli/checkpoints.ts): the state is then written once at the
// end, and a killed run records nothing, so safety rests on a re-run converging from whatever the
// killed run left on the server. This test kills such runs at seeded points — two first applies
// of 30 workspaces and one growth by 10 workspaces — each held to its saved plan as `tenancy
// apply` runs it; checks that the state recorded nothing of the killed run and that no workspace
// is half-applied; runs README.md's "Interrupted applies" steps as written; and then checks the
// catalogs with its own SQL: exactly the declared roles, schemas, grants, control-plane rows and
// sealed credentials, nothing orphaned and nothing missing, and a second `up` that changes nothing.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack, UpResult } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointChoice } from "../../cli/checkpoints.ts";
import { configurePostgres, ensureDemoSecrets, openStack } from "../../cli/engine.ts";
import { freePort } from "../../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { loadDeclaration } from "../../config/load.ts";
import type { Sql } from "./attack-catalog.ts";
import { root } from "./harness.ts";
import { checkOrganization, halfApplied, strangers } from "./interrupt-catalog.ts";
import {
  backendFiles, engineOf, errorLines, firstDeclaration, grownDeclaration, killSeed, recoverySteps, seeded, settle, shell,
  stackTraceLines, upInterruptedAt, type Declared,
} from "./interrupt-harness.ts";

const seed = killSeed();
const random = seeded(seed);
// Held to its plan (no preview first), a first apply of 30 workspaces emits ~130 resource events,
// a growth by 10 about 46: kill within the first 120 and 40.
const ROUNDS = [
  { org: "c1", kind: "first", at: 1 + Math.floor(random() * 120) },
  { org: "c1", kind: "grown", at: 1 + Math.floor(random() * 40) },
  { org: "c2", kind: "first", at: 1 + Math.floor(random() * 120) },
] as const;

const changed = (r: UpResult) => Object.fromEntries(Object.entries(r.summary.resourceChanges ?? {}).filter(([op, n]) => op !== "same" && n));

describe("checkpoint-free applies (creates only), SIGKILL at 3 seeded points", () => {
  let dir: string;
  let port: number;
  let server: LocalPostgres;
  let client: pg.Client;
  const sql: Sql = async (text, params) => (await client.query(text, params)).rows;
  const stacks = new Map<string, Stack>();
  const current = new Map<string, Declared>();
  const lines: string[] = [];
  let orphans = 0;

  async function declare(d: Declared): Promise<Stack> {
    const file = join(dir, `${d.org}.yaml`);
    await writeFile(file, d.text);
    let stack = stacks.get(d.org);
    if (!stack) {
      stack = (await openStack({ root, stack: `e2e-nockpt-${d.org}-${process.pid}`, backendUrl: `file://${dir}` })).stack;
      await configurePostgres(stack, server);
      await stack.setConfig("tenancy:declaration", { value: file });
      stacks.set(d.org, stack);
    }
    const loaded = loadDeclaration(d.text, file);
    if (!loaded.ok || !loaded.model) throw new Error(`the generated declaration of ${d.org} must load`);
    await ensureDemoSecrets(stack, loaded.model);
    return stack;
  }

  /** The resources the stack's state file records, read from the file itself. */
  async function recorded(stack: Stack): Promise<number> {
    const text = await readFile(join(dir, ".pulumi", "stacks", "tenancy", `${stack.name}.json`), "utf8").catch(() => "{}");
    const checkpoint = JSON.parse(text) as { checkpoint?: { latest?: { resources?: unknown[] } } };
    return checkpoint.checkpoint?.latest?.resources?.length ?? 0;
  }

  beforeAll(async () => {
    console.log(`checkpoint-free kills: seed ${seed} (replay with TENANCY_KILL_SEED=${seed}); kill points ${ROUNDS.map((r) => r.at).join(", ")}`);
    dir = await mkdtemp(join(tmpdir(), "tenancy-e2e-nockpt-"));
    await chmod(dir, 0o755);
    port = await freePort();
    const su = await ensureLocalPostgres({ root: dir, port });
    server = await ensureAdminRole(dir, su);
    client = new pg.Client({ host: server.host, port: server.port, user: su.user, password: su.password, database: server.database });
    await client.connect();
  });

  afterAll(async () => {
    for (const line of lines) console.log(line);
    console.log(`checkpoint-free kills: ${lines.length} of ${ROUNDS.length} converged; ${orphans} orphans found`);
    await client?.end().catch(() => {});
    for (const stack of stacks.values()) await stack.workspace.removeStack(stack.name, { force: true }).catch(() => {});
    if (dir) {
      await stopLocalPostgres({ root: dir, port }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  ROUNDS.forEach(({ org, kind, at }, i) => {
    it(`kill ${i + 1}: the ${kind} apply of ${org} without checkpoints, SIGKILL after resource event ${at}, records nothing and converges`, async () => {
      const started = Date.now();
      const before = current.get(org);
      const after = kind === "first" ? firstDeclaration(org) : grownDeclaration(org, 10);
      const stack = await declare(after);
      const recordedBefore = await recorded(stack);

      // The decision `tenancy apply` makes, from the saved plan it will be held to.
      const planFile = join(dir, `${org}-${i}.plan.json`);
      await stack.preview({ plan: planFile });
      const choice = checkpointChoice(JSON.parse(await readFile(planFile, "utf8")));
      expect(choice.skip, choice.reason).toBe(true);

      stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
      let run;
      try {
        run = await upInterruptedAt(stack, at, () => {
          const found = engineOf(stack.name);
          process.kill(found.engine.pid, "SIGKILL");
          return found;
        }, { plan: planFile });
      } finally {
        delete stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS;
      }
      expect(run.interrupted, `the apply ended after ${run.events} resource events, before the kill point ${at}`).toBe(true);
      expect(run.error, "a killed apply must fail").toBeDefined();
      const settled = await settle(run.interruptResult as ReturnType<typeof engineOf>);
      expect(settled.strays, "processes of the killed engine still running").toEqual([]);

      // Without checkpoints the killed run recorded nothing: no resource, no pending operation.
      const onDisk = await backendFiles(dir, stack.name);
      expect(onDisk.pending).toEqual([]);
      const recordedAfterKill = await recorded(stack);
      expect(recordedAfterKill).toBe(recordedBefore);
      expect(await halfApplied(sql, before, after, server.database)).toEqual([]);
      current.set(org, after);

      // README's recovery as written, then the same declaration again, then nothing left to do.
      const env = { ...stack.workspace.envVars, STACK: stack.name, STATE: dir };
      for (const line of await recoverySteps()) {
        const step = await shell(line, env);
        expect(step.ok, `recovery step \`${line}\` failed:\n${errorLines(step.output).join("\n")}\n${step.output.slice(-1500)}`).toBe(true);
        expect(stackTraceLines(step.output)).toEqual([]);
      }
      expect(await backendFiles(dir, stack.name)).toEqual({ emptyAttrs: [], locks: 0, pending: [] });
      const second = await stack.up();
      expect(changed(second), "a second up after the recovery must change nothing").toEqual({});

      const found: string[] = [];
      for (const d of current.values()) {
        const f = await checkOrganization(sql, d, server.database, d.org === org);
        orphans += f.orphans.length;
        found.push(...f.orphans.map((x) => `${d.org}: orphan ${x}`), ...f.missing.map((x) => `${d.org}: missing ${x}`));
      }
      const extra = await strangers(sql, [...current.values()]);
      orphans += extra.length;
      expect([...found, ...extra.map((x) => `orphan ${x}`)]).toEqual([]);
      lines.push(`kill ${i + 1} (${org} ${kind}, ${choice.reason.split(":")[0]}): SIGKILL at event ${at} (${run.events} seen); ` +
        `state resources before/after the kill ${recordedBefore}/${recordedAfterKill}, after recovery ${await recorded(stack)}; round ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }, 300_000);
  });
});
