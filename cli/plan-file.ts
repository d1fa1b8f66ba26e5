// The plan file (`tenancy plan --out plan.json`): what was reviewed, pinned by digest, so that
// `tenancy apply --plan plan.json` applies exactly that or nothing. Per stack it holds the
// SHA-256 of both declarations and of the stack config file (stacks/Pulumi.<stack>.yaml), the
// verdict, and with `--engine` the Pulumi update plan (`pulumi preview --save-plan`), which
// `up --plan` then holds the engine to. Secrets in an update plan are encrypted by the stack's
// secrets provider, as in state.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StackPlan } from "../policies/plan/report.ts";
import { Exit, ExitError } from "./errors.ts";
import type { PlanRun } from "./plan.ts";
import { recordedPath, sha256 } from "./plan-sides.ts";

export const PLAN_FILE_VERSION = 1;

export interface Digest {
  /** Relative to the project root when inside it. */
  readonly path: string;
  /** null: the file did not exist. */
  readonly sha256: string | null;
}

export interface PlannedStack {
  readonly stack: string;
  readonly status: StackPlan["status"];
  /** True when the plan had no unacknowledged violation for this stack. */
  readonly ok: boolean;
  readonly base: { readonly source: string; readonly sha256: string } | null;
  /** The declaration to apply: the file the stack program reads. */
  readonly declaration: Digest;
  readonly stackConfig: Digest;
  /** `pulumi preview --save-plan` output (with `--engine`). */
  readonly updatePlan?: unknown;
}

export interface PlanFile {
  readonly version: typeof PLAN_FILE_VERSION;
  readonly createdAt: string;
  readonly acknowledged: readonly string[];
  readonly stacks: readonly PlannedStack[];
}

export interface PlanFileOptions {
  /** Project root (Pulumi.yaml, stacks/). */
  readonly root: string;
  readonly acknowledged: readonly string[];
  /** Saves a Pulumi update plan per stack through the real engine. */
  readonly engine?: (stack: string, declaration: string) => Promise<unknown>;
}

export function stackConfigPath(root: string, stack: string): string {
  return join(root, "stacks", `Pulumi.${stack}.yaml`);
}

export async function digestOf(root: string, file: string): Promise<Digest> {
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw new ExitError(`cannot read ${file}: ${error.code ?? String(error)}`, Exit.Usage);
  });
  return { path: recordedPath(root, file), sha256: bytes === null ? null : sha256(bytes) };
}

export async function buildPlanFile(run: PlanRun, options: PlanFileOptions): Promise<PlanFile> {
  const stacks: PlannedStack[] = [];
  for (const plan of run.report.stacks) {
    const sides = run.sides.find((s) => s.stack === plan.stack)!;
    if (sides.head && !sides.head.file) {
      throw new ExitError(`--out: the head of ${plan.stack} is ${sides.head.source}; a plan to apply needs the head in the work tree`, Exit.Usage);
    }
    const declarationFile = sides.head?.file ?? join(options.root, "stacks", plan.stack, "tenancy.yaml");
    const declaration = await digestOf(options.root, declarationFile);
    if (sides.head && declaration.sha256 !== sides.head.sha256) {
      throw new ExitError(`${sides.head.source} changed while it was being planned; plan again`, Exit.Usage);
    }
    const ok = !plan.violations.some((v) => v.severity === "error" && !v.acknowledged);
    const updatePlan = options.engine && sides.head && ok ? await options.engine(plan.stack, declarationFile) : undefined;
    stacks.push({
      stack: plan.stack,
      status: plan.status,
      ok,
      base: plan.base,
      declaration,
      stackConfig: await digestOf(options.root, stackConfigPath(options.root, plan.stack)),
      ...(updatePlan !== undefined ? { updatePlan } : {}),
    });
  }
  return { version: PLAN_FILE_VERSION, createdAt: new Date().toISOString(), acknowledged: [...options.acknowledged], stacks };
}

export async function writePlanFile(file: string, plan: PlanFile): Promise<void> {
  await writeFile(file, JSON.stringify(plan, null, 2) + "\n", { mode: 0o600 });
}

export async function readPlanFile(file: string): Promise<PlanFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ExitError(`cannot read the plan file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, Exit.Usage);
  }
  const plan = parsed as Partial<PlanFile>;
  if (plan?.version !== PLAN_FILE_VERSION || !Array.isArray(plan.stacks)) {
    throw new ExitError(`${file} is not a tenancy plan file (version ${PLAN_FILE_VERSION})`, Exit.Usage);
  }
  return plan as PlanFile;
}

/** Runs `fn` with the update plan written to a private temporary file. */
export async function withUpdatePlanFile<T>(updatePlan: unknown, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-update-plan-"));
  try {
    const file = join(dir, "update-plan.json");
    await writeFile(file, JSON.stringify(updatePlan), { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
