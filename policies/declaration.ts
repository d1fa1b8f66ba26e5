// A declaration file in, every violation out, each with file, line and column. This is what
// `tenancy validate` prints and what the stack program checks before anything reaches the engine.
import { loadDeclaration, readDeclarationFile, type SchemaIssue } from "../config/load.ts";
import type { TenancyModel } from "../config/model.ts";
import { escapeInvisible, redactQuotedSecrets } from "../config/secrets.ts";
import { formatPath, pathKey, type Path, type SourcePosition, type YamlProblem, type YamlSource } from "../config/source.ts";
import { YAML } from "./rules/engine.ts";
import { ownerOf, rules as allRules, runRules, Severity, type Rule, type RuleSettings, type Violation } from "./rules/index.ts";
import { quote } from "./rules/types.ts";

export interface LocatedViolation {
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
  /** `workspaces[2].members[0].role` */
  readonly path: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The workspace a guard's finding is about (not in reports: it scopes acknowledgements). */
  readonly workspace?: string;
}

export interface DeclarationReport {
  readonly file: string;
  /** The model, when the declaration is valid. */
  readonly model: TenancyModel | undefined;
  /**
   * The model the rules ran on, valid or not (from the lenient schema when the strict one
   * failed); undefined when the file could not even be read as a declaration.
   */
  readonly checked?: TenancyModel | undefined;
  readonly violations: readonly LocatedViolation[];
}

export interface CheckOptions {
  readonly rules?: readonly Rule[];
  /** The previous version, for change rules. */
  readonly previous?: TenancyModel;
  /** Where the previous version is written, to locate findings about what a change removed. */
  readonly previousSource?: PreviousSource;
  /** Thresholds of the change rules. */
  readonly settings?: RuleSettings;
}

export interface PreviousSource {
  readonly file: string;
  /** A model path of the previous version -> its position in that file. */
  locate(path: Path): SourcePosition;
}

export async function checkDeclarationFile(file: string, options: CheckOptions = {}): Promise<DeclarationReport> {
  const read = await readDeclarationFile(file);
  if ("problem" in read) return { file, model: undefined, violations: [yamlViolation(read.problem, file)] };
  return checkDeclaration(read.text, file, options);
}

function yamlViolation({ message, position }: YamlProblem, file: string): LocatedViolation {
  return { rule: YAML, severity: Severity.Error, message: printable(message), path: "(document)", file, ...position };
}

export function checkDeclaration(text: string, file: string, options: CheckOptions = {}): DeclarationReport {
  const rules = options.rules ?? allRules;
  const loaded = loadDeclaration(text, file);
  if (!loaded.ok) return { file, model: undefined, violations: [yamlViolation(loaded.yaml, file)] };
  const fromSchema = loaded.issues.map((issue) => schemaViolation(issue, rules));
  const fromRules = loaded.model
    ? runRules({
        model: loaded.model,
        ...(options.previous ? { previous: options.previous } : {}),
        ...(options.settings ? { settings: options.settings } : {}),
      }, rules).map((v) => (v.in ? v : { ...v, path: loaded.remap(v.path) }))
    : [];
  // A rule that owns a field re-checks it (the policy pack's models never pass through zod), so
  // the same mistake can arrive from both: keep the rule's wording.
  const ruled = new Set(fromRules.map((v) => `${v.rule}\u0002${pathKey(v.path)}`));
  const merged = [...fromRules, ...fromSchema.filter((v) => !ruled.has(`${v.rule}\u0002${pathKey(v.path)}`))];
  const unknownKeys = new Set(loaded.issues.filter((i) => i.code === "unknown-key").map((i) => pathKey(i.path)));
  const violations = merged
    .map((v) => v.in === "previous"
      ? locatePrevious(v, options.previousSource)
      : locate(v, loaded.source, file, unknownKeys.has(pathKey(v.path)) ? "key" : "value"))
    // What a change removed (in the previous file) first, then the current file in order.
    .sort((a, b) => Number(a.file === file) - Number(b.file === file) || a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  const valid = !violations.some((v) => v.severity === Severity.Error);
  return { file, model: valid ? loaded.model : undefined, checked: loaded.model, violations };
}

function schemaViolation(issue: SchemaIssue, rules: readonly Rule[]): Violation {
  const { id, severity } = ownerOf(issue.path, rules);
  const secret = issue.path[issue.path.length - 1] === "credentialsSecret";
  const shown = issue.value === undefined || issue.code === "missing" || issue.code === "unknown-key" || secret
    ? ""
    : `; got ${typeof issue.value === "object" && issue.value !== null ? (Array.isArray(issue.value) ? "a list" : "a mapping") : quote(issue.value)}`;
  const parent = issue.code === "unknown-key" || issue.code === "missing";
  const where = formatPath(parent ? issue.path.slice(0, -1) : issue.path);
  const message = parent
    ? `${issue.message} in ${where}`
    : `${where} ${issue.message}${shown}`;
  return { rule: id, severity, path: issue.path, message };
}

function locatePrevious(v: Violation, previous: PreviousSource | undefined): LocatedViolation {
  const { line, column } = previous?.locate(v.path) ?? { line: 1, column: 1 };
  return { rule: v.rule, severity: v.severity, message: v.message, path: formatPath(v.path), file: previous?.file ?? "(previous version)", line, column, ...(v.workspace !== undefined ? { workspace: v.workspace } : {}) };
}

function locate(v: Violation, source: YamlSource, file: string, at: "key" | "value"): LocatedViolation {
  const { line, column } = source.locate(v.path, at);
  return { rule: v.rule, severity: v.severity, message: printable(v.message), path: escapeInvisible(formatPath(v.path)), file, line, column, ...(v.workspace !== undefined ? { workspace: v.workspace } : {}) };
}

/** Messages quote what was written; never a credential, never characters that hide text. */
function printable(message: string): string {
  return escapeInvisible(redactQuotedSecrets(message));
}
