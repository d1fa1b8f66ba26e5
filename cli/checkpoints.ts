// Whether an apply may skip the engine's per-step checkpoints (PULUMI_SKIP_CHECKPOINTS).
//
// Pulumi 3.246's self-managed backends rewrite the whole state after every step, so a first
// apply of N resources costs O(N²) in state writes (3,630 s for 4,005 resources here, 3,273 s of
// it engine CPU). Without checkpoints the state is written once, at the end, and a killed run
// records nothing. That is safe exactly when a re-run of the same plan converges from whatever
// the killed run left behind: our provider's `create` adopts an object that already exists
// (roles, schema, tables, rows), so a run of creates (and unchanged resources) can simply run
// again. A delete, replace or update is not: a killed delete leaves state that names objects
// already gone, a killed update leaves state that disagrees with the database. Any such step,
// or a plan that cannot be read, keeps checkpoints on.

/** What the engine's saved update plan (`pulumi preview --save-plan`) holds per resource. */
interface UpdatePlanShape {
  readonly resourcePlans?: Readonly<Record<string, { readonly steps?: readonly string[] }>>;
}

/** Steps whose interruption a re-run repairs by itself. */
const REPEATABLE = new Set(["create", "same"]);

export interface CheckpointChoice {
  /** True: run with PULUMI_SKIP_CHECKPOINTS=true. */
  readonly skip: boolean;
  /** One line for the log: which was chosen and why. */
  readonly reason: string;
}

export function checkpointChoice(updatePlan: unknown): CheckpointChoice {
  const plans = (updatePlan as UpdatePlanShape | null | undefined)?.resourcePlans;
  if (!plans || typeof plans !== "object") {
    return { skip: false, reason: "checkpoints on: no engine plan to tell which steps run" };
  }
  const counts = new Map<string, number>();
  for (const plan of Object.values(plans)) {
    const steps = Array.isArray(plan?.steps) ? plan.steps : [];
    for (const step of steps.length ? steps : ["same"]) counts.set(String(step), (counts.get(String(step)) ?? 0) + 1);
  }
  const risky = [...counts].filter(([step]) => !REPEATABLE.has(step));
  const creates = counts.get("create") ?? 0;
  if (risky.length > 0) {
    const list = risky.map(([step, n]) => `${n} ${step}`).join(", ");
    return { skip: false, reason: `checkpoints on: the plan has ${list} (a killed run must leave state to recover from)` };
  }
  if (creates === 0) return { skip: false, reason: "checkpoints on: nothing to create" };
  return { skip: true, reason: `checkpoints skipped: the plan only creates (${creates}); a killed run leaves no state and is run again, creates adopt what exists` };
}
