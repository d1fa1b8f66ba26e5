// One stack's plan from the two declaration texts: every rule on the head, the change rules
// against the base (findings about what was removed point into the base), the semantic diff,
// the risk summary and acknowledgements. Pure: the caller reads the sides (files, git).
import { loadDeclaration } from "../../config/load.ts";
import type { TenancyModel } from "../../config/model.ts";
import { formatPath } from "../../config/source.ts";
import { checkDeclaration, type LocatedViolation, type PreviousSource } from "../declaration.ts";
import { rules, runRules, type RuleSettings } from "../rules/index.ts";
import { diffModels } from "./diff.ts";
import { StackStatus, type PlanViolation, type Side, type StackPlan } from "./report.ts";
import { risksOf } from "./risk.ts";

export interface SideText {
  /** How the side is named in output: a path, or `REF:path`. */
  readonly source: string;
  readonly text: string;
  readonly sha256: string;
  /** Absolute path, when the side was read from the file system (not from git). */
  readonly file?: string;
}

export interface PlanStackInput {
  readonly stack: string;
  /** Absent: a new stack. */
  readonly base?: SideText;
  /** Absent: the stack is removed. */
  readonly head?: SideText;
  /** Acknowledged for this change: `rule-id:workspace` (that rule's findings about that workspace) or `rule-id` (all its findings). */
  readonly acknowledge?: readonly string[];
  readonly settings?: RuleSettings;
}

/** The rules whose findings may be acknowledged (the guards). */
export const ACKNOWLEDGEABLE: readonly string[] = rules.filter((r) => r.acknowledgeable).map((r) => r.id);

export class PlanInputError extends Error {}

export function planStack(input: PlanStackInput): StackPlan {
  const { base, head } = input;
  if (!base && !head) throw new PlanInputError(`stack ${input.stack}: neither side exists`);
  const side = (s: SideText | undefined): Side | null => (s ? { source: s.source, sha256: s.sha256 } : null);
  const acknowledged = new Set(input.acknowledge ?? []);

  const previous = base ? loadBase(base) : undefined;
  let violations: readonly LocatedViolation[];
  let headModel: TenancyModel | undefined;
  if (head) {
    const report = checkDeclaration(head.text, head.source, {
      ...(previous ? { previous: previous.model, previousSource: previous.source } : {}),
      ...(input.settings ? { settings: input.settings } : {}),
    });
    violations = report.violations;
    headModel = report.checked;
  } else {
    // The stack is removed: only the change rules can speak, about what the base held.
    const empty: TenancyModel = { version: 1, workspaces: [] };
    violations = runRules({ model: empty, previous: previous!.model }, rules.filter((r) => r.needs === "change"))
      .map((v) => {
        const { line, column } = previous!.source.locate(v.path);
        return { rule: v.rule, severity: v.severity, message: v.message, path: formatPath(v.path), file: base!.source, line, column };
      });
  }

  // A head that cannot be read as a declaration is not a removal: no diff, only its violations.
  const unreadable = head !== undefined && headModel === undefined;
  const changes = unreadable || (base && head && base.text === head.text) ? [] : diffModels(previous?.model, headModel);
  const status = !base ? StackStatus.Created
    : !head ? StackStatus.Removed
    : changes.length === 0 && !unreadable ? StackStatus.Unchanged : StackStatus.Changed;
  return {
    stack: input.stack,
    status,
    base: side(base),
    head: side(head),
    risks: unreadable ? [] : risksOf(previous?.model, headModel, changes),
    changes,
    // What still fails first; acknowledged findings after, in the same file and line order.
    violations: violations
      .map(({ workspace, ...v }): PlanViolation => ({
        ...v,
        acknowledged: ACKNOWLEDGEABLE.includes(v.rule) && (acknowledged.has(v.rule) || (workspace !== undefined && acknowledged.has(`${v.rule}:${workspace}`))),
      }))
      .sort((a, b) => Number(a.acknowledged) - Number(b.acknowledged)),
  };
}

/** The base must at least be a declaration the rules can read; it was reviewed once already. */
function loadBase(base: SideText): { model: TenancyModel; source: PreviousSource } {
  const loaded = loadDeclaration(base.text, base.source);
  if (!loaded.ok) {
    throw new PlanInputError(`${base.source}:${loaded.yaml.position.line}:${loaded.yaml.position.column} the base is not a readable declaration: ${loaded.yaml.message}`);
  }
  if (!loaded.model) throw new PlanInputError(`${base.source}: the base is not a declaration the rules can read (${loaded.issues[0]?.message ?? "unknown shape"})`);
  const { source, remap } = loaded;
  return { model: loaded.model, source: { file: base.source, locate: (path) => source.locate(remap(path), "key") } };
}
