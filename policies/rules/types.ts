// What a rule is. Rules are pure: they read the model (and, for change rules, the previous
// model) and never import Pulumi, SQL or the file system, so `tenancy validate`, the policy
// pack and the audit run the very same list.
import type { TenancyModel } from "../../config/model.ts";
import type { Path } from "../../config/source.ts";

export const Severity = { Error: "error", Warning: "warning" } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** What a rule reports: where (a path into the model/declaration) and what must hold. */
export interface Finding {
  readonly path: Path;
  readonly message: string;
}

export interface Violation extends Finding {
  /** Stable kebab-case rule id; `schema` and `yaml` for errors no rule owns. */
  readonly rule: string;
  readonly severity: Severity;
}

export interface RuleContext {
  readonly model: TenancyModel;
  /** The declaration before the change, for rules that compare two versions (`tenancy plan`). */
  readonly previous?: TenancyModel;
}

export interface Rule {
  /** Stable kebab-case id, never reused. */
  readonly id: string;
  /** Starts with "Checks that …". */
  readonly description: string;
  readonly severity: Severity;
  /**
   * Declaration paths whose schema errors this rule reports under its own id (a bad colour is
   * an `export-profile-valid` error even though zod found it). `*` matches one segment, a
   * trailing `**` any suffix.
   */
  readonly owns?: readonly string[];
  /** `change` rules run only when a previous version is given. */
  readonly needs?: "change";
  check(context: RuleContext): Iterable<Finding>;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}

/** One quoting style for values in every message: JSON strings. */
export function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
