// Runs rules over a model, and decides which rule owns a schema error.
import type { Path } from "../../config/source.ts";
import { Severity, type Rule, type RuleContext, type Violation } from "./types.ts";

/** Ids for errors that no rule owns. */
export const SCHEMA = "schema";
export const YAML = "yaml";

/** Runs every rule that applies (change rules only when `previous` is given). */
export function runRules(context: RuleContext, rules: readonly Rule[]): Violation[] {
  const violations: Violation[] = [];
  for (const rule of rules) {
    if (rule.needs === "change" && !context.previous) continue;
    for (const finding of rule.check(context)) {
      violations.push({
        rule: rule.id, severity: rule.severity, path: finding.path, message: finding.message,
        ...(finding.in ? { in: finding.in } : {}),
        ...(finding.workspace !== undefined ? { workspace: finding.workspace } : {}),
      });
    }
  }
  return violations;
}

/** The rule that owns schema errors at `path`: the most specific matching pattern wins. */
export function ownerOf(path: Path, rules: readonly Rule[]): { id: string; severity: Severity } {
  let best: { rule: Rule; specificity: number } | undefined;
  for (const rule of rules) {
    for (const pattern of rule.owns ?? []) {
      const specificity = matches(pattern.split("."), path);
      if (specificity >= 0 && (!best || specificity > best.specificity)) best = { rule, specificity };
    }
  }
  return best ? { id: best.rule.id, severity: best.rule.severity } : { id: SCHEMA, severity: Severity.Error };
}

/** -1 when `pattern` does not match `path`, else how many literal segments it matched. */
function matches(pattern: string[], path: Path): number {
  const subtree = pattern[pattern.length - 1] === "**";
  const fixed = subtree ? pattern.slice(0, -1) : pattern;
  if (subtree ? path.length < fixed.length : path.length !== fixed.length) return -1;
  let literal = 0;
  for (const [i, segment] of fixed.entries()) {
    if (segment === "*") continue;
    if (segment !== String(path[i])) return -1;
    literal++;
  }
  return literal;
}
