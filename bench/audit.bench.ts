// npm run bench:audit [-- --sizes 10,100,1000 --runs 5 --engine-sizes 10,100] — the audit at
// scale: time and number of statements at 10, 100 and 1,000 workspaces, side by side in one run.
// Every dimension grows with the workspaces (10 members each, 5 people per workspace, 1
// integration and 1 agent each). Each size gets its own database on one throwaway embedded
// PostgreSQL, applied directly through the control-plane SQL and the grants' DDL
// (bench/audit-fixture.ts): a real `up` of 1,000 workspaces takes far longer than what is
// measured here. At the engine sizes, the same tenancy applied by `pulumi up` is audited side by
// side with `pulumi refresh --preview-only` on the same stack (bench/audit-refresh.ts).
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { auditState, loadValidDeclaration } from "../audit/audit.ts";
import { readPostgres } from "../audit/read-postgres.ts";
import { freePort } from "../cli/local/net.ts";
import { closeOtherDatabases, ensureLocalPostgres, stopLocalPostgres } from "../cli/local/postgres.ts";
import { applyDirect } from "./audit-fixture.ts";
import { benchAuditVsRefresh, formatRefreshFigures, type RefreshFigures } from "./audit-refresh.ts";
import { generateDeclaration } from "./generate.ts";
import { isMain, type BenchModule, type Row } from "./table.ts";

export interface AuditFigures {
  readonly workspaces: number;
  readonly memberships: number;
  readonly people: number;
  readonly integrations: number;
  /** Statements the reader sent (the same at every size). */
  readonly queries: number;
  /** Median over the runs. */
  readonly readMs: number;
  readonly diffMs: number;
  /** Catalog rows read: schemas, roles, relations, default ACL rows. */
  readonly catalogRows: number;
  /** Deviations found (0: the generated tenancy is exactly what is declared). */
  readonly findings: number;
  readonly applyMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Measures the audit at each size; returns one row of figures per size. */
export async function benchAudit(sizes: readonly number[] = [10, 100, 1000], runs = 5, log: (line: string) => void = () => {}): Promise<AuditFigures[]> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-bench-audit-"));
  await chmod(dir, 0o755);
  const port = await freePort();
  const server = await ensureLocalPostgres({ root: dir, port });
  const connect = async (database: string) => {
    const c = new pg.Client({ host: server.host, port, user: server.user, password: server.password, database });
    await c.connect();
    return c;
  };
  const figures: AuditFigures[] = [];
  try {
    // As the embedded default's setup does: no workspace role may reach postgres or template1.
    const closing = await connect("postgres");
    try { for (const statement of closeOtherDatabases()) await closing.query(statement); } finally { await closing.end(); }
    for (const size of sizes) {
      const organization = `bench-${size}`;
      const yaml = generateDeclaration({ workspaces: size, membersPerWorkspace: 10, people: size * 5 }).replace(/^  slug: acme$/m, `  slug: ${organization}`);
      const declaration = loadValidDeclaration(yaml, `${organization}.yaml`);
      if ("errors" in declaration) throw new Error(declaration.errors.slice(0, 5).join("\n"));
      const database = `bench_${size}`;
      const su = await connect("postgres");
      await su.query(`CREATE DATABASE ${su.escapeIdentifier(database)}`);
      await su.end();
      const client = await connect(database);
      try {
        log(`applying ${size} workspaces directly ...`);
        const applyStart = performance.now();
        await applyDirect(client, declaration.model, database);
        const applyMs = performance.now() - applyStart;
        await client.query("ANALYZE");
        const reads: number[] = [];
        const diffs: number[] = [];
        let last: Awaited<ReturnType<typeof readPostgres>> | undefined;
        let findings = 0;
        for (let run = 0; run < runs; run++) {
          last = await readPostgres(client, organization);
          reads.push(last.durationMs);
          const start = performance.now();
          const result = auditState(declaration, last.state, { pendingInvitationDays: 365 });
          diffs.push(performance.now() - start);
          // Deviations: findings that fail the audit (the embedded server's hardening warnings do not).
          findings = result.findings.filter((f) => f.severity === "error").length;
        }
        const s = last!.state;
        const model = declaration.model;
        figures.push({
          workspaces: size,
          memberships: model.workspaces.reduce((n, w) => n + w.members.length, 0),
          people: model.organization!.people.length,
          integrations: model.workspaces.reduce((n, w) => n + w.integrations.length, 0),
          queries: last!.queries,
          readMs: median(reads),
          diffMs: median(diffs),
          catalogRows: s.schemas.length + s.roles.length + s.relations.length + s.defaultAcls.length + s.memberships.length,
          findings,
          applyMs,
        });
      } finally {
        await client.end();
      }
    }
  } finally {
    await stopLocalPostgres({ root: dir, port });
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function formatFigures(figures: readonly AuditFigures[]): string {
  const base = figures[0];
  const rows = figures.map((f) => [
    String(f.workspaces), String(f.memberships), String(f.people), String(f.integrations), String(f.catalogRows), String(f.queries),
    f.readMs.toFixed(0), f.diffMs.toFixed(0), (f.readMs + f.diffMs).toFixed(0),
    base ? `${((f.readMs + f.diffMs) / (base.readMs + base.diffMs)).toFixed(1)}x` : "", String(f.findings), (f.applyMs / 1000).toFixed(1),
  ]);
  const header = ["workspaces", "memberships", "people", "integrations", "catalog rows", "queries", "read ms", "diff ms", "audit ms", "vs smallest", "findings", "apply s"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padStart(widths[i]!)).join("  ")).join("\n") + "\n";
}

/** The rows of the one benchmark table (bench/run.ts). */
export function auditRows(direct: readonly AuditFigures[], engine: readonly RefreshFigures[]): Row[] {
  const base = direct[0];
  const ms = (f: AuditFigures) => f.readMs + f.diffMs;
  return [
    ...direct.map((f): Row => ({
      area: "audit",
      measure: `audit read + diff, ${f.workspaces.toLocaleString("en")} workspaces × 10 members, ${f.people.toLocaleString("en")} people (applied directly)`,
      figure: `${ms(f).toFixed(0)} ms`,
      note: `${f.queries} queries, ${f.catalogRows.toLocaleString("en")} catalog rows, ${f.findings} findings${base && f !== base ? `; ×${(ms(f) / ms(base)).toFixed(1)} the ${base.workspaces}-workspace audit` : ""}`,
    })),
    ...engine.map((f): Row => ({
      area: "audit",
      measure: `\`tenancy audit\` vs \`pulumi refresh --preview-only\`, ${f.workspaces.toLocaleString("en")} workspaces applied with \`pulumi up\` (${f.resources} resources)`,
      figure: `${f.auditSeconds.toFixed(2)} s vs ${f.refreshSeconds.toFixed(2)} s`,
      note: `refresh takes ×${(f.refreshSeconds / f.auditSeconds).toFixed(1)} the audit; audit ${f.queries} queries, ${f.findings} findings; refresh plans ${f.refreshChanges} changes`,
    })),
  ];
}

export const bench: BenchModule = {
  name: "audit",
  description: "tenancy audit at 10, 100 and 1,000 workspaces applied directly; beside pulumi refresh --preview-only at the engine sizes",
  engine: true,
  async run({ engineSizes, log }) {
    const direct = await benchAudit([10, 100, 1000], 5, log);
    const engine: RefreshFigures[] = [];
    for (const size of engineSizes) engine.push(await benchAuditVsRefresh(size, 3, log));
    return auditRows(direct, engine);
  },
};

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { sizes: { type: "string", default: "10,100,1000" }, runs: { type: "string", default: "5" }, "engine-sizes": { type: "string", default: "10,100" } } });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const sizes = values.sizes.split(",").map(Number);
  const figures = await benchAudit(sizes, Number(values.runs), log);
  process.stdout.write(`tenancy audit, median of ${values.runs} runs per size (read: one snapshot; diff: expected state, findings, rules)\n`);
  process.stdout.write(formatFigures(figures));
  const engineSizes = values["engine-sizes"].split(",").filter(Boolean).map(Number);
  const engine: RefreshFigures[] = [];
  for (const size of engineSizes) engine.push(await benchAuditVsRefresh(size, 3, log));
  if (engine.length > 0) {
    process.stdout.write(`\ntenancy audit vs pulumi refresh --preview-only on the same stack, applied with pulumi up (median of 3 interleaved rounds)\n`);
    process.stdout.write(formatRefreshFigures(engine));
  }
  // Embedded PostgreSQL installs exit hooks; leave explicitly.
  process.exit(0);
}
