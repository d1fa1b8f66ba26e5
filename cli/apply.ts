// `tenancy apply --plan plan.json`: applies exactly what was reviewed, or nothing. Before the
// engine starts, every stack's declaration and stack config must still have the digests the
// plan recorded, and the stack program must read that very declaration; the first difference
// refuses the whole apply in one line. A saved Pulumi update plan is passed to `up --plan`
// (supported by the 3.246 engine without PULUMI_EXPERIMENTAL; the flag is only hidden from
// help), which refuses any operation beyond the reviewed preview.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { openStack } from "./engine.ts";
import { Exit, ExitError } from "./errors.ts";
import { digestOf, readPlanFile, withUpdatePlanFile, type PlannedStack } from "./plan-file.ts";

export interface ApplyOptions {
  /** The plan file written by `tenancy plan --out`. */
  readonly plan: string;
  /** State backend; default PULUMI_BACKEND_URL, else the local `.tenancy/state`. */
  readonly backendUrl?: string;
}

export interface AppliedStack {
  readonly stack: string;
  readonly changes: Readonly<Record<string, number>>;
  readonly heldToUpdatePlan: boolean;
}

export async function apply(options: ApplyOptions, cwd: string, log: (line: string) => void = () => {}): Promise<AppliedStack[]> {
  const plan = await readPlanFile(resolve(cwd, options.plan));
  for (const planned of plan.stacks) await verifyUnchanged(planned, cwd);
  const applied: AppliedStack[] = [];
  for (const planned of plan.stacks) {
    const backendUrl = options.backendUrl ?? process.env.PULUMI_BACKEND_URL;
    const { stack } = await openStack({ root: cwd, stack: planned.stack, ...(backendUrl ? { backendUrl } : {}), log });
    await verifyProgramReads(stack, planned.stack, resolve(cwd, planned.declaration.path), cwd);
    const policyPacks = [join(cwd, "policies")];
    const onOutput = (out: string) => log(out.trimEnd());
    try {
      const result = planned.updatePlan !== undefined
        ? await withUpdatePlanFile(planned.updatePlan, (file) => stack.up({ plan: file, policyPacks, onOutput, color: "never" }))
        : await stack.preview({ policyPacks, onOutput, color: "never" }).then(() => stack.up({ policyPacks, onOutput, color: "never" }));
      applied.push({ stack: planned.stack, changes: result.summary.resourceChanges ?? {}, heldToUpdatePlan: planned.updatePlan !== undefined });
    } catch (error) {
      throw new ExitError(`pulumi up of stack ${planned.stack} failed: ${engineError(error)}`, Exit.Violations);
    }
  }
  return applied;
}

/** Refuses (exit 1) a plan that failed, a removed stack, or any file changed since planning. */
async function verifyUnchanged(planned: PlannedStack, root: string): Promise<void> {
  const refuse = (why: string) => { throw new ExitError(`refusing to apply stack ${planned.stack}: ${why}; nothing was applied`, Exit.Violations); };
  if (!planned.ok) refuse("its plan has unacknowledged violations; fix them and plan again");
  if (planned.status === "removed") refuse("it was removed from the declarations; tear a stack down by hand (decommission its workspaces, then pulumi destroy)");
  for (const [what, recorded] of [["declaration", planned.declaration], ["stack config", planned.stackConfig]] as const) {
    const now = await digestOf(root, resolve(root, recorded.path));
    if (now.sha256 !== recorded.sha256) {
      refuse(`${what} ${recorded.path} changed since it was planned (sha256 ${short(recorded.sha256)} → ${short(now.sha256)}); plan again and review`);
    }
  }
}

/** The stack program reads `tenancy:declaration`, else stacks/<stack>/tenancy.yaml: it must be the planned file. */
async function verifyProgramReads(stack: Stack, name: string, declaration: string, root: string): Promise<void> {
  const configured = (await stack.getAllConfig())["tenancy:declaration"]?.value;
  const reads = configured ? resolve(root, configured) : join(root, "stacks", name, "tenancy.yaml");
  if (reads !== declaration) {
    throw new ExitError(`refusing to apply stack ${name}: the plan is for ${declaration} but the stack program reads ${reads}; nothing was applied`, Exit.Violations);
  }
}

/** `pulumi preview --save-plan` with the policy pack, for `tenancy plan --engine`. */
export async function saveUpdatePlan(root: string, name: string, declaration: string, backendUrl: string | undefined, log: (line: string) => void): Promise<unknown> {
  const { stack } = await openStack({ root, stack: name, ...(backendUrl ? { backendUrl } : {}), log });
  await verifyProgramReads(stack, name, declaration, root).catch((error: ExitError) => {
    throw new ExitError(error.message.replace("refusing to apply", "cannot plan").replace("; nothing was applied", ""), Exit.Usage);
  });
  const dir = await mkdtemp(join(tmpdir(), "tenancy-save-plan-"));
  try {
    const file = join(dir, "update-plan.json");
    await stack.preview({ plan: file, policyPacks: [join(root, "policies")], onOutput: (out) => log(out.trimEnd()), color: "never" })
      .catch((error: unknown) => { throw new ExitError(`pulumi preview of stack ${name} failed: ${engineError(error)}`, Exit.Violations); });
    return JSON.parse(await readFile(file, "utf8"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One line from an engine failure: its first `error:` line, never a stack trace. */
export function engineError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const first = lines.find((l) => /^error:/i.test(l) && !/^error: update failed$/i.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? lines[0] ?? "unknown error";
  return first.length > 400 ? `${first.slice(0, 400)}…` : first;
}

function short(digest: string | null): string {
  return digest === null ? "(no file)" : `${digest.slice(0, 12)}…`;
}
