// `tenancy plan`: what a change to stack declarations does, and which rules it breaks.
//   tenancy plan --base <file|dir|REF:path> --head <file|dir|REF:path>
//   tenancy plan --base-ref <git-ref>        (every stacks/*/tenancy.yaml against the work tree)
// Returns the typed report; formats and exit codes are the caller's (cli/main.ts).
import { ACKNOWLEDGEABLE, planStack, PlanInputError } from "../policies/plan/plan.ts";
import { planReport, RISK_ORDER, StackStatus, type PlanReport, type StackPlan } from "../policies/plan/report.ts";
import type { RuleSettings } from "../policies/rules/index.ts";
import { Exit, ExitError } from "./errors.ts";
import { resolve } from "node:path";
import { parseAcknowledgement, parseTtl, writePlanFile, type Acknowledgement } from "./plan-file.ts";
import { buildPlanFile } from "./plan-build.ts";
import { readSide, stackNameOf, stacksSinceRef, type StackSides } from "./plan-sides.ts";

export interface PlanOptions {
  /** The declaration before the change: file, stack directory or `REF:path`. */
  readonly base?: string;
  /** The declaration after the change: file, stack directory or `REF:path`. */
  readonly head?: string;
  /** Instead of base/head: every stack's declaration at this ref against the work tree. */
  readonly baseRef?: string;
  /** Stack name for base/head mode; default: from a `stacks/<name>/` path. */
  readonly stack?: string;
  /** Guards acknowledged for this change: `rule-id:workspace`, or `rule-id` for all its findings. */
  readonly acknowledge?: readonly string[];
  /** Who acknowledged (recorded in the plan file). */
  readonly acknowledgedBy?: string;
  /** With `out`: how long the plan may wait for its apply (`90m`, `12h`, `7d`); default 7d. */
  readonly ttl?: string;
  readonly maxRemovalShare?: number;
  readonly minAdmins?: number;
  /** Writes a plan file for `tenancy apply --plan` (digests of what was reviewed). */
  readonly out?: string;
  /** With `out`: also save each stack's Pulumi update plan (`pulumi preview --save-plan`, policy pack on). */
  readonly engine?: boolean;
  /** State backend for `engine`; default PULUMI_BACKEND_URL, else the local `.tenancy/state`. */
  readonly backendUrl?: string;
}

export interface PlanRun {
  readonly report: PlanReport;
  /** The sides as read, for the plan file. */
  readonly sides: readonly StackSides[];
}

export async function plan(options: PlanOptions, cwd: string, log: (line: string) => void = () => {}): Promise<PlanRun> {
  if (options.engine && options.out === undefined) throw new ExitError("--engine saves the Pulumi update plan into the plan file: give --out too", Exit.Usage);
  const acknowledge = [...new Set(options.acknowledge ?? [])];
  const createdAt = new Date();
  const acknowledgements: Acknowledgement[] = acknowledge.map((a) => parseAcknowledgement(a, ACKNOWLEDGEABLE, options.acknowledgedBy ?? null, createdAt.toISOString()));
  const ttl = options.ttl === undefined ? undefined : parseTtl(options.ttl);
  const settings = settingsOf(options);
  const sides = await sidesOf(options, cwd);
  let stacks: StackPlan[];
  try {
    stacks = sides.map(({ stack, base, head }) => planStack({
      stack,
      ...(base ? { base } : {}),
      ...(head ? { head } : {}),
      acknowledge,
      settings,
    }));
  } catch (error) {
    if (error instanceof PlanInputError) throw new ExitError(error.message, Exit.Usage);
    throw error;
  }
  const run = { report: planReport(byDanger(stacks)), sides };
  if (options.out !== undefined) {
    const backendUrl = options.backendUrl ?? process.env.PULUMI_BACKEND_URL;
    const file = await buildPlanFile(run, {
      root: cwd, acknowledgements, settings, createdAt, ...(ttl !== undefined ? { ttlMs: ttl } : {}),
      ...(options.baseRef !== undefined ? { baseRef: options.baseRef } : {}),
      ...(options.engine ? { engine: { ...(backendUrl ? { backendUrl } : {}), log } } : {}),
    });
    await writePlanFile(resolve(cwd, options.out), file);
  }
  return run;
}

async function sidesOf(options: PlanOptions, cwd: string): Promise<StackSides[]> {
  if (options.baseRef !== undefined) {
    if (options.base !== undefined || options.head !== undefined) {
      throw new ExitError("use either --base-ref or --base/--head, not both", Exit.Usage);
    }
    return stacksSinceRef(options.baseRef, cwd);
  }
  if (options.head === undefined) {
    throw new ExitError("give --head (and --base, unless the stack is new): a file, stack directory or REF:path; or --base-ref <git-ref>", Exit.Usage);
  }
  // No --base at all: a new stack (what CI passes when there is no commit before).
  const [base, head] = await Promise.all([options.base === undefined ? undefined : readSide(options.base, cwd), readSide(options.head, cwd)]);
  if (!base && !head) throw new ExitError(`neither ${options.base ?? "(no --base)"} nor ${options.head} exists`, Exit.Usage);
  const stack = options.stack ?? stackNameOf(options.head) ?? (options.base !== undefined ? stackNameOf(options.base) : undefined) ?? (head ?? base)!.source;
  return [{ stack, base, head }];
}

/** Most dangerous stack first: failing, then by its worst risk, then changed, unchanged last. */
function byDanger(stacks: StackPlan[]): StackPlan[] {
  const rank = (s: StackPlan) => {
    if (s.violations.some((v) => v.severity === "error" && !v.acknowledged)) return 0;
    const worst = Math.min(...s.risks.map((r) => RISK_ORDER.indexOf(r.kind)));
    if (Number.isFinite(worst)) return 1 + worst;
    return s.status === StackStatus.Unchanged ? 5 : 4;
  };
  return stacks.map((s, i) => ({ s, i, r: rank(s) })).sort((a, b) => a.r - b.r || a.i - b.i).map(({ s }) => s);
}

function settingsOf(options: PlanOptions): RuleSettings {
  const { maxRemovalShare, minAdmins } = options;
  if (maxRemovalShare !== undefined && !(maxRemovalShare >= 0 && maxRemovalShare <= 1)) {
    throw new ExitError(`--max-removal-share must be between 0 and 1; got ${String(maxRemovalShare)}`, Exit.Usage);
  }
  if (minAdmins !== undefined && !(Number.isSafeInteger(minAdmins) && minAdmins >= 0)) {
    throw new ExitError(`--min-admins must be a whole number >= 0; got ${String(minAdmins)}`, Exit.Usage);
  }
  return { ...(maxRemovalShare !== undefined ? { maxRemovalShare } : {}), ...(minAdmins !== undefined ? { minAdmins } : {}) };
}

export function formatJson(report: PlanReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}
