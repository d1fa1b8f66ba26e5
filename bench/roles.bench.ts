// What one workspace's roles cost PostgreSQL as the workspaces grow: the admin creates the
// workspace's owner, app and read-only roles and takes INHERIT and SET on them (provider/postgres/
// roles.ts ensureRole, the statements every first apply runs), while it already holds the roles
// of 100, 1,000 and 3,000 workspaces (3 each), as after the first apply of that many.
//
// Why it is a bench of its own: the first `up` of 3,000 workspaces spends most of its CPU in
// PostgreSQL (BENCHMARKS.md, "Engine at 100, 1,000 and 3,000 workspaces"). A membership change
// (CREATE ROLE by a CREATEROLE admin grants the admin the new role; GRANT ... TO CURRENT_USER)
// resets every session's cached list of the roles the admin belongs to, and the next privilege
// check rebuilds it by walking all of them: a cost per statement that grows with the roles held,
// so the creates of N workspaces grow with N². These rows measure that, one session, no engine.
// Only the workspaces grow here, on purpose: members, people and integrations are rows (control
// plane, sealed credentials), never roles, so they add nothing to the list being rebuilt; the
// engine benches grow every dimension together.
//
//   npm run bench -- --only roles
//   npx tsx bench/roles.bench.ts --sizes 0,100,1000,3000
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { freePort } from "../cli/local/net.ts";
import { ADMIN_ROLE, ensureAdminRole, ensureLocalPostgres, stopLocalPostgres } from "../cli/local/postgres.ts";
import { ensureRole } from "../provider/postgres/roles.ts";
import { count, factor, median } from "./measure.ts";
import { allowedGrowth } from "./preview.bench.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";

/** Workspaces measured at each size (one transaction each, as a boundary's create runs). */
const SAMPLE = 20;

export interface RoleFigures {
  readonly workspaces: number;
  /** Roles the admin held when the sample ran. */
  readonly rolesHeld: number;
  /** Median wall time of one workspace's three roles, created and taken in hand, committed. */
  readonly msPerWorkspace: number;
}

export async function benchRoles(sizes: readonly number[], log: (line: string) => void = () => {}): Promise<RoleFigures[]> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-bench-roles-"));
  await chmod(dir, 0o755);
  const port = await freePort();
  const server = await ensureLocalPostgres({ root: dir, port });
  const admin = await ensureAdminRole(dir, server);
  const connect = async (user: string, password: string, database: string) => {
    const c = new pg.Client({ host: server.host, port, user, password, database });
    await c.connect();
    return c;
  };
  const su = await connect(server.user, server.password, "postgres");
  const as = await connect(admin.user, admin.password, admin.database);
  const figures: RoleFigures[] = [];
  try {
    let held = 0;
    let sampled = 0;
    for (const workspaces of [...sizes].sort((a, b) => a - b)) {
      // The roles of the workspaces before: made by the superuser (no membership checks) and
      // granted to the admin as a CREATEROLE admin holds its own roles (ADMIN, INHERIT, SET).
      const target = 3 * workspaces;
      log(`roles: the admin holds ${count(target)} roles ...`);
      while (held < target) {
        const batch = Array.from({ length: Math.min(500, target - held) }, (_, i) => `bench_filler_${held + i}`);
        await su.query(`DO $$ DECLARE r text; BEGIN FOREACH r IN ARRAY ${su.escapeLiteral(`{${batch.join(",")}}`)}::text[] LOOP EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r); END LOOP; END $$`);
        await su.query(`GRANT ${batch.map((r) => su.escapeIdentifier(r)).join(", ")} TO ${su.escapeIdentifier(ADMIN_ROLE)} WITH ADMIN TRUE, INHERIT TRUE, SET TRUE`);
        held += batch.length;
      }
      const times: number[] = [];
      for (let i = 0; i < SAMPLE; i++) {
        const base = `bench_ws_${sampled++}`;
        const start = performance.now();
        await as.query("BEGIN");
        await ensureRole(as, `${base}__owner`, undefined, false);
        await ensureRole(as, `${base}__app`, undefined, true, `bench-password-${base}-0123456789`, 20);
        await ensureRole(as, `${base}__ro`, undefined, false);
        await as.query("COMMIT");
        times.push(performance.now() - start);
      }
      held += 3 * SAMPLE;
      const figure = { workspaces, rolesHeld: target, msPerWorkspace: median(times) };
      log(`roles: ${count(workspaces)} workspaces (${count(target)} roles held): ${figure.msPerWorkspace.toFixed(1)} ms per workspace`);
      figures.push(figure);
    }
  } finally {
    await as.end().catch(() => {});
    await su.end().catch(() => {});
    await stopLocalPostgres({ root: dir, port });
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function roleRows(figures: readonly RoleFigures[]): Row[] {
  // The first apply of N workspaces creates them as the roles accrue: about N × the mean of the
  // cost with none held and the cost with all N's held, when it grows in a straight line.
  const none = figures.find((f) => f.workspaces === 0);
  const sized = figures.filter((f) => f.workspaces > 0);
  const firstApplyMs = (f: RoleFigures) => f.workspaces * (f.msPerWorkspace + (none?.msPerWorkspace ?? 0)) / 2;
  const rows: Row[] = figures.map((f) => ({
    area: "postgres",
    measure: f.workspaces === 0
      ? "one workspace's 3 roles created and taken in hand (ensureRole), the admin holding no workspace's roles"
      : `one workspace's 3 roles created and taken in hand (ensureRole), the admin holding the roles of ${count(f.workspaces)} workspaces (${count(f.rolesHeld)})`,
    figure: `${f.msPerWorkspace.toFixed(1)} ms`,
    note: `median of ${SAMPLE}, one session, committed${none && f.workspaces > 0
      ? `; a first apply of ${count(f.workspaces)} workspaces spends ≈ ${(firstApplyMs(f) / 1000).toFixed(1)} s on them (× ${count(f.workspaces)}, the mean of this and the none-held cost)`
      : ""}`,
  }));
  for (let i = 0; i < sized.length; i++) {
    for (let j = i + 1; j < sized.length; j++) {
      const [a, b] = [sized[i]!, sized[j]!];
      const ratio = b.workspaces / a.workspaces;
      const perWorkspace = b.msPerWorkspace / a.msPerWorkspace;
      rows.push({
        area: "postgres",
        measure: `growth ${count(a.workspaces)} → ${count(b.workspaces)} workspaces (×${count(ratio)}): the roles' cost per workspace`,
        figure: factor(perWorkspace),
        note: `so a first apply's role statements grow ${factor(firstApplyMs(b) / firstApplyMs(a))} for ×${count(ratio)} workspaces (the engine target allows ×${allowedGrowth(ratio).toFixed(2)})`,
      });
    }
  }
  return rows;
}

export const bench: BenchModule = {
  name: "roles",
  description: "PostgreSQL: one workspace's roles created while the admin holds those of 100, 1,000 and 3,000 workspaces",
  async run({ log }) {
    return roleRows(await benchRoles([0, 100, 1000, 3000], log));
  },
};

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { sizes: { type: "string", default: "0,100,1000,3000" } } });
  const sizes = values.sizes.split(",").map(Number);
  process.stdout.write(renderText(roleRows(await benchRoles(sizes, (line) => process.stderr.write(`${line}\n`)))));
  process.exit(0);
}
