// `tenancy audit` side by side with `pulumi refresh --preview-only` on the same stack, applied by
// the real engine (`pulumi up`) to a throwaway embedded PostgreSQL: both read what exists, one in
// a fixed number of queries, the other with one provider read per resource. Everything lives in
// a throwaway directory and stack, as in bench/preview.bench.ts; .tenancy/ is untouched.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { withBenchStack } from "./engine-stack.ts";
import { median } from "./measure.ts";

const root = join(import.meta.dirname, "..");

export interface RefreshFigures {
  readonly workspaces: number;
  readonly memberships: number;
  readonly people: number;
  /** Resources in the stack's state (what refresh reads one by one). */
  readonly resources: number;
  /** Wall seconds of `pulumi up` that applied it (checkpoints skipped, as in the preview bench). */
  readonly upSeconds: number;
  /** Median wall seconds of `tenancy audit` (compiled bin, process start to exit). */
  readonly auditSeconds: number;
  /** Median wall seconds of `pulumi refresh --preview-only` (Automation API `previewRefresh`). */
  readonly refreshSeconds: number;
  /** Statements the audit sent (`--verbose`). */
  readonly queries: number;
  /** Audit deviations (0: the applied stack is what is declared). */
  readonly findings: number;
  /** Non-"same" steps the refresh planned (0 on a stack just applied). */
  readonly refreshChanges: number;
}

interface AuditJson { clean: boolean; counts: { total: number; info: number }; findings: { severity: string }[]; stats?: { queries: number } }

/** The compiled CLI, built when absent (as bench/cli.bench.ts does). */
function bin(log: (line: string) => void): Promise<string> {
  const file = join(root, "dist", "cli", "tenancy.js");
  if (existsSync(file)) return Promise.resolve(file);
  log("audit: building dist/ first (npm run build)");
  return new Promise((done, fail) => execFile(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root }, (e) => (e ? fail(e) : done(file))));
}

/** One `tenancy audit` process; the password goes through PGPASSWORD, never the command line. */
function runAudit(cli: string, args: string[], password: string): Promise<{ ms: number; json: AuditJson }> {
  const start = performance.now();
  return new Promise((done, fail) => {
    execFile(process.execPath, [cli, "audit", ...args, "--format", "json", "--verbose"], { cwd: root, env: { ...process.env, PGPASSWORD: password }, maxBuffer: 256 << 20 }, (error, stdout, stderr) => {
      const ms = performance.now() - start;
      // Exit 1 means findings: still a measurement, reported in the figures.
      if (error && error.code !== 1) return fail(new Error(`tenancy audit failed: ${stderr.trim() || error.message}`));
      try { done({ ms, json: JSON.parse(stdout) as AuditJson }); } catch (e) { fail(e as Error); }
    });
  });
}

/** Applies `size` workspaces with `pulumi up`, then times audit and refresh preview `rounds` times, interleaved. */
export async function benchAuditVsRefresh(size: number, rounds = 3, log: (line: string) => void = () => {}): Promise<RefreshFigures> {
  const cli = await bin(log);
  return withBenchStack("bench-refresh", { workspaces: size, membersPerWorkspace: 10, people: size * 5 }, log, async ({ stack, server, file, model }) => {
    log(`audit vs refresh: pulumi up of ${size} workspaces ...`);
    stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
    const upStart = performance.now();
    await stack.up();
    const upSeconds = (performance.now() - upStart) / 1000;
    delete stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS;
    const resources = ((await stack.exportStack()).deployment.resources ?? []).length;

    const url = `postgres://${server.user}@${server.host}:${server.port}/${server.database}`;
    const audits: number[] = [];
    const refreshes: number[] = [];
    let last: AuditJson | undefined;
    let refreshChanges = 0;
    for (let round = 0; round < rounds; round++) {
      log(`audit vs refresh: ${size} workspaces, round ${round + 1} of ${rounds}`);
      const audit = await runAudit(cli, ["--declaration", file, "--database-url", url], server.password);
      audits.push(audit.ms / 1000);
      last = audit.json;
      const start = performance.now();
      const preview = await stack.previewRefresh();
      refreshes.push((performance.now() - start) / 1000);
      refreshChanges = Object.entries(preview.changeSummary).filter(([op]) => op !== "same").reduce((n, [, count]) => n + (count ?? 0), 0);
    }
    return {
      workspaces: size,
      memberships: model.workspaces.reduce((n, w) => n + w.members.length, 0),
      people: model.organization?.people.length ?? 0,
      resources, upSeconds,
      auditSeconds: median(audits), refreshSeconds: median(refreshes),
      queries: last?.stats?.queries ?? 0,
      // Deviations: findings that fail the audit (the embedded server's hardening warnings do not).
      findings: last ? last.findings.filter((f) => f.severity === "error").length : -1,
      refreshChanges,
    };
  });
}

export function formatRefreshFigures(figures: readonly RefreshFigures[]): string {
  const header = ["workspaces", "memberships", "people", "resources", "up s", "audit s", "refresh --preview-only s", "refresh / audit", "audit queries", "findings", "refresh changes"];
  const rows = figures.map((f) => [
    String(f.workspaces), String(f.memberships), String(f.people), String(f.resources), f.upSeconds.toFixed(1), f.auditSeconds.toFixed(2),
    f.refreshSeconds.toFixed(2), `${(f.refreshSeconds / f.auditSeconds).toFixed(1)}x`, String(f.queries), String(f.findings), String(f.refreshChanges),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padStart(widths[i]!)).join("  ")).join("\n") + "\n";
}
