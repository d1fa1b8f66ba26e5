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
  /**
   * `previous` when `path` points into the previous version (what a change removed); default:
   * the current one.
   */
  readonly in?: "previous";
  /** The workspace a finding is about (guards set it: an acknowledgement names rule and workspace). */
  readonly workspace?: string;
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
  /** Thresholds of the change rules; each has a default. */
  readonly settings?: RuleSettings;
}

export interface RuleSettings {
  /** `mass-removal-guarded`: the largest share (0..1) of a workspace's members or of the directory one change may remove. Default 0.25. */
  readonly maxRemovalShare?: number;
  /** `admin-removal-guarded`: a workspace losing admins must keep at least this many. Default 1. */
  readonly minAdmins?: number;
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
  /**
   * A guard: its findings may be acknowledged for one change (`tenancy plan --acknowledge <id>`),
   * which keeps them in the output, marked, without failing.
   */
  readonly acknowledgeable?: boolean;
  check(context: RuleContext): Iterable<Finding>;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}

/** One quoting style for values in every message: JSON strings. */
export function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
