// Writing a plan file's facts at plan time (`tenancy plan --out`, cli/plan-file.ts says what
// each one is). With `--engine`, each stack's update plan is saved against its current state,
// which is recorded too; a stack that does not exist is an error, never created.
import { join } from "node:path";
import type { PlanReport } from "../policies/plan/report.ts";
import type { RuleSettings } from "../policies/rules/index.ts";
import { Exit, ExitError } from "./errors.ts";
import { DEFAULT_TTL_MS, PLAN_FILE_VERSION, shown, type Acknowledgement, type PlanFile, type PlannedStack } from "./plan-file.ts";
import { codeDigest, commitOf, declarationRead, digestOf, identityOf, saveUpdatePlan, stackConfigPath, stateVersion, toolkitVersion } from "./plan-facts.ts";
import type { StackSides } from "./plan-sides.ts";

export interface BuildOptions {
  /** Project root (Pulumi.yaml, stacks/). */
  readonly root: string;
  readonly acknowledgements: readonly Acknowledgement[];
  readonly settings: RuleSettings;
  readonly createdAt: Date;
  readonly ttlMs?: number;
  /** `--base-ref`: every base was read from this ref. */
  readonly baseRef?: string;
  /** Save a Pulumi update plan per stack through the real engine. */
  readonly engine?: { readonly backendUrl?: string; readonly log: (line: string) => void };
}

export async function buildPlanFile(run: { readonly report: PlanReport; readonly sides: readonly StackSides[] }, options: BuildOptions): Promise<PlanFile> {
  const { root } = options;
  const stacks: PlannedStack[] = [];
  let baseCommit: string | null = options.baseRef !== undefined ? await commitOf(root, options.baseRef) : null;
  let engineVersions: PlanFile["engine"] = null;
  for (const plan of run.report.stacks) {
    const sides = run.sides.find((s) => s.stack === plan.stack)!;
    if (sides.head && !sides.head.file) {
      throw new ExitError(`--out: the head of ${shown(plan.stack)} is ${shown(sides.head.source)}; a plan to apply needs the head in the work tree`, Exit.Usage);
    }
    const declarationFile = sides.head?.file ?? join(root, "stacks", plan.stack, "tenancy.yaml");
    // A removed stack has no declaration to apply, whatever the default path holds.
    const declaration = sides.head ? await digestOf(root, declarationFile) : { path: (await digestOf(root, declarationFile)).path, sha256: null };
    if (sides.head && declaration.sha256 !== sides.head.sha256) {
      throw new ExitError(`${shown(sides.head.source)} changed while it was being planned; plan again`, Exit.Usage);
    }
    const base = await baseOf(sides, options);
    if (base?.commit) baseCommit ??= base.commit;
    const ok = !plan.violations.some((v) => v.severity === "error" && !v.acknowledged);
    let engine: Pick<PlannedStack, "target" | "state" | "updatePlan"> = {};
    if (options.engine && sides.head && ok) {
      const { openStack } = await import("./engine.ts");
      const { backendUrl, log } = options.engine;
      const target = await identityOf(root, plan.stack, backendUrl);
      const opened = await openStack({ root, stack: plan.stack, mustExist: true, ...(backendUrl ? { backendUrl } : {}), log })
        .catch(() => { throw new ExitError(`cannot plan stack ${shown(plan.stack)}: it does not exist in ${shown(target.backend)} (create it by hand first: pulumi stack init)`, Exit.Usage); });
      const reads = await declarationRead(opened.stack, plan.stack, root);
      if (reads !== declarationFile) throw new ExitError(`cannot plan stack ${shown(plan.stack)}: the plan is for ${shown(declarationFile)} but the stack program reads ${shown(reads)}`, Exit.Usage);
      engineVersions = { pulumi: opened.toolchain.pulumi, languageHost: opened.toolchain.languageHost };
      const state = await stateVersion(opened.stack);
      const updatePlan = await saveUpdatePlan(opened.stack, root, log);
      // A plan is only worth its state: if another run changed the stack meanwhile, say so now.
      if ((await stateVersion(opened.stack)).sha256 !== state.sha256) throw new ExitError(`stack ${shown(plan.stack)} changed while it was being planned; plan again`, Exit.Violations);
      engine = { target, state, updatePlan };
    }
    stacks.push({ stack: plan.stack, base, declaration, stackConfig: await digestOf(root, stackConfigPath(root, plan.stack)), ...engine });
  }
  const createdAt = options.createdAt;
  return {
    version: PLAN_FILE_VERSION,
    createdAt: createdAt.toISOString(),
    expiresAt: new Date(createdAt.getTime() + (options.ttlMs ?? DEFAULT_TTL_MS)).toISOString(),
    commits: { head: await commitOf(root, "HEAD"), base: baseCommit },
    code: await codeDigest(root),
    toolkit: await toolkitVersion(),
    engine: engineVersions,
    settings: options.settings,
    acknowledgements: options.acknowledgements,
    stacks,
  };
}

/** Where the base was read, so apply can read it again: a commit and path in git, or a file. */
async function baseOf(sides: StackSides, options: BuildOptions): Promise<PlannedStack["base"]> {
  const base = sides.base;
  if (!base) return null;
  if (base.file) return { source: base.source, commit: null, path: (await digestOf(options.root, base.file)).path, sha256: base.sha256 };
  // `REF:path`: with --base-ref the path is the stack's, relative to the project root.
  const at = base.source.indexOf(":");
  const ref = options.baseRef ?? base.source.slice(0, at);
  const path = options.baseRef !== undefined ? `./stacks/${sides.stack}/tenancy.yaml` : base.source.slice(at + 1);
  const commit = await commitOf(options.root, ref);
  if (!commit) throw new ExitError(`--out: cannot tell which commit ${shown(ref)} is`, Exit.Usage);
  return { source: base.source, commit, path, sha256: base.sha256 };
}
