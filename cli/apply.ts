// `tenancy apply --plan plan.json`: applies exactly what was reviewed, or nothing. The plan file
// records facts, and apply trusts none of them: it measures each again and refuses, one line per
// failed check, exit 1, before any engine run:
//  1. the file: expiry, head commit, code digest, toolkit version;
//  2. per stack: declaration and stack-config digests, the base read again from where it was
//     recorded (commit and path, or file) and its digest, then validate and the change rules
//     re-run on base → head with the recorded settings and acknowledgements (a stored verdict
//     counts for nothing); the engine's update plan must be there;
//  3. per stack, through the engine: backend, project and stack as recorded, the stack exists
//     (selected, never created), the engine's versions, the program reads the planned
//     declaration, and the state is still the one planned against (a newer apply makes an older
//     plan stale).
// Only then is each stack updated with `up --plan` (supported by the 3.246 engine without
// PULUMI_EXPERIMENTAL; the flag is only hidden from help), which refuses any operation beyond
// the reviewed preview.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { planStack, PlanInputError, type SideText } from "../policies/plan/plan.ts";
import { checkpointChoice } from "./checkpoints.ts";
import { escapeLines } from "./engine-errors.ts";
import { Exit, ExitError } from "./errors.ts";
import { fileRefusals, readPlanFile, short, shown, type PlanFile, type PlannedStack } from "./plan-file.ts";
import { codeDigest, commitOf, declarationRead, digestOf, engineError, identityOf, stateVersion, toolkitVersion, withUpdatePlanFile } from "./plan-facts.ts";
import { sha256 } from "./plan-sides.ts";

const run = promisify(execFile);

export interface ApplyOptions {
  /** The plan file written by `tenancy plan --out`. */
  readonly plan: string;
  /** State backend; default PULUMI_BACKEND_URL, else the local `.tenancy/state`. */
  readonly backendUrl?: string;
  /** The time to check expiry against (tests). */
  readonly now?: Date;
}

export interface AppliedStack {
  readonly stack: string;
  readonly changes: Readonly<Record<string, number>>;
  readonly heldToUpdatePlan: boolean;
  /** The plan only created: applied without per-step checkpoints. */
  readonly checkpointsSkipped: boolean;
}

export async function apply(options: ApplyOptions, cwd: string, log: (line: string) => void = () => {}): Promise<AppliedStack[]> {
  const plan = await readPlanFile(resolve(cwd, options.plan));
  const backendUrl = options.backendUrl ?? process.env.PULUMI_BACKEND_URL;
  const refusals = fileRefusals(plan, {
    now: options.now ?? new Date(),
    commits: { head: await commitOf(cwd, "HEAD") },
    code: await codeDigest(cwd),
    toolkit: await toolkitVersion(),
  }).map((why) => `refusing to apply: ${why}; nothing was applied`);
  for (const planned of plan.stacks) {
    for (const why of await stackRefusals(plan, planned, cwd)) refusals.push(`refusing to apply stack ${shown(planned.stack)}: ${why}; nothing was applied`);
  }
  if (refusals.length > 0) throw new ExitError(refusals.join("\n"), Exit.Violations);

  // Every stack is checked against its backend before the first one is updated.
  const opened: { planned: PlannedStack; stack: Stack }[] = [];
  for (const planned of plan.stacks) {
    const why = await engineRefusals(plan, planned, cwd, backendUrl, log);
    if (typeof why === "string") refusals.push(`refusing to apply stack ${shown(planned.stack)}: ${why}; nothing was applied`);
    else opened.push({ planned, stack: why });
  }
  if (refusals.length > 0) throw new ExitError(refusals.join("\n"), Exit.Violations);

  const applied: AppliedStack[] = [];
  for (const { planned, stack } of opened) {
    const policyPacks = [join(cwd, "policies")];
    const onOutput = (out: string) => log(escapeLines(out.trimEnd()));
    // A plan of creates only runs without per-step checkpoints (cli/checkpoints.ts): the state is
    // written once at the end instead of after every step, and a killed run is simply run again.
    const checkpoints = checkpointChoice(planned.updatePlan);
    log(`tenancy: ${shown(planned.stack)}: ${checkpoints.reason}`);
    if (checkpoints.skip) stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
    try {
      const result = await withUpdatePlanFile(planned.updatePlan, (file) => stack.up({ plan: file, policyPacks, onOutput, color: "never" }));
      applied.push({ stack: planned.stack, changes: result.summary.resourceChanges ?? {}, heldToUpdatePlan: true, checkpointsSkipped: checkpoints.skip });
    } catch (error) {
      throw new ExitError(`pulumi up of stack ${shown(planned.stack)} failed: ${shown(engineError(error))}`, Exit.Violations);
    } finally {
      delete stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS;
    }
  }
  return applied;
}

/** The checks that need no engine: files, the base, the rules, the update plan's presence. */
async function stackRefusals(plan: PlanFile, planned: PlannedStack, root: string): Promise<string[]> {
  const removed = "it was removed from the declarations; tear a stack down by hand (decommission its workspaces, then pulumi destroy)";
  if (planned.declaration.sha256 === null) return [removed];
  const out: string[] = [];
  for (const [what, recorded] of [["declaration", planned.declaration], ["stack config", planned.stackConfig]] as const) {
    const now = await digestOf(root, resolve(root, recorded.path));
    if (now.sha256 !== recorded.sha256) out.push(`${what} ${shown(recorded.path)} changed since it was planned (sha256 ${short(recorded.sha256)} → ${short(now.sha256)}); plan again and review`);
  }
  const head = await readHead(planned, root);
  if (!head) out.push(removed);
  const base = await readBase(planned, root).catch((error: Error) => { out.push(`base: ${error.message}`); return null; });
  if (head && base !== null) {
    try {
      const acknowledge = plan.acknowledgements.map((a) => (a.workspace === null ? a.rule : `${a.rule}:${a.workspace}`));
      const again = planStack({ stack: planned.stack, ...(base ? { base } : {}), head, acknowledge, settings: plan.settings ?? {} });
      const open = again.violations.filter((v) => v.severity === "error" && !v.acknowledged);
      if (open.length > 0) {
        const first = open[0]!;
        out.push(`rules: its plan has ${open.length} unacknowledged violation${open.length === 1 ? "" : "s"} (first: ${first.rule} at ${shown(first.file)}:${first.line}); fix them and plan again`);
      }
    } catch (error) {
      if (!(error instanceof PlanInputError)) throw error;
      out.push(`rules: ${shown(error.message)}`);
    }
  }
  if (planned.updatePlan === undefined || planned.updatePlan === null || typeof planned.updatePlan !== "object" || !planned.target || !planned.state) {
    out.push("engine plan: the plan file holds no Pulumi update plan for it; plan with --engine");
  }
  return out;
}

async function readHead(planned: PlannedStack, root: string): Promise<SideText | undefined> {
  const file = resolve(root, planned.declaration.path);
  const bytes = await readFile(file).catch(() => null);
  return bytes === null ? undefined : { source: planned.declaration.path, text: bytes.toString("utf8"), sha256: sha256(bytes), file };
}

/** The base as recorded: read again at its commit, or from its file; it must have the recorded digest. */
async function readBase(planned: PlannedStack, root: string): Promise<SideText | undefined> {
  const base = planned.base;
  if (base === null || base === undefined) return undefined;
  let bytes: Buffer;
  if (base.commit) {
    if (!/^[0-9a-f]{40,64}$/.test(base.commit) || !base.path || base.path.startsWith("-")) throw new Error(`recorded as ${shown(JSON.stringify(base.source))}, not a commit and path`);
    bytes = await run("git", ["show", `${base.commit}:${base.path}`], { cwd: root, encoding: "buffer", maxBuffer: 256 * 1024 * 1024 })
      .then((r) => r.stdout as Buffer, () => { throw new Error(`${shown(base.source)} cannot be read at commit ${shown(base.commit)}`); });
  } else {
    if (!base.path) throw new Error(`recorded as ${shown(JSON.stringify(base.source))} without a path`);
    const read = await readFile(resolve(root, base.path)).catch(() => null);
    if (read === null) throw new Error(`${shown(base.path)} cannot be read`);
    bytes = read;
  }
  if (sha256(bytes) !== base.sha256) throw new Error(`${shown(base.source)} is not the base that was planned (sha256 ${short(base.sha256)} → ${short(sha256(bytes))})`);
  return { source: base.source, text: bytes.toString("utf8"), sha256: base.sha256 };
}

/** The checks against the backend: returns the selected stack, or why not. Never creates a stack. */
async function engineRefusals(plan: PlanFile, planned: PlannedStack, root: string, backendUrl: string | undefined, log: (line: string) => void): Promise<Stack | string> {
  const now = await identityOf(root, planned.stack, backendUrl);
  const then = planned.target!;
  if (then.backend !== now.backend) return `foreign stack: planned in backend ${shown(then.backend)}, this is ${shown(now.backend)}`;
  if (then.project !== now.project) return `foreign stack: planned in project ${shown(then.project)}, this is ${shown(now.project)}`;
  if (then.stack !== planned.stack) return `foreign stack: the update plan is for stack ${shown(then.stack)}`;
  const { openStack } = await import("./engine.ts");
  const opened = await openStack({ root, stack: planned.stack, mustExist: true, ...(backendUrl ? { backendUrl } : {}), log }).catch(() => undefined);
  if (!opened) return `foreign stack: no stack ${shown(planned.stack)} in ${shown(now.backend)} (apply never creates one)`;
  const engine = { pulumi: opened.toolchain.pulumi, languageHost: opened.toolchain.languageHost };
  if (plan.engine?.pulumi !== engine.pulumi || plan.engine?.languageHost !== engine.languageHost) {
    return `engine version: planned with pulumi ${shown(plan.engine?.pulumi ?? "(none)")} / language host ${shown(plan.engine?.languageHost ?? "(none)")}, this is ${engine.pulumi} / ${engine.languageHost}; plan again`;
  }
  const reads = await declarationRead(opened.stack, planned.stack, root);
  if (reads !== resolve(root, planned.declaration.path)) return `the plan is for ${shown(planned.declaration.path)} but the stack program reads ${shown(reads)}`;
  const state = await stateVersion(opened.stack);
  if (state.sha256 !== planned.state!.sha256) {
    return `stale: the stack's state changed since planning (${planned.state!.resources} → ${state.resources} resources, sha256 ${short(planned.state!.sha256)} → ${short(state.sha256)}); plan again`;
  }
  return opened.stack;
}
