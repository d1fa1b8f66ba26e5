// The exceptions file (`tenancy audit --exceptions FILE`): findings a team has accepted, each
// with who accepted it, why, and until when. A matched finding is still reported, marked
// excepted, and no longer fails the audit; an entry past its expiry excepts nothing and is a
// finding itself; an entry matching nothing is reported as `info`. Pure: the CLI reads the file.
//
//   exceptions:
//     - rule: grant-crosses-boundary          # a finding id
//       object: 'schema "acme__emea_support"'  # the finding's object, exactly as reported
//       reason: the migration job reads it until the 2027 cut-over
//       who: ana@acme.test
//       expires: 2027-01-31                    # the last day it holds
import { formatPath, YamlSource, type Path } from "../config/source.ts";
import { FindingClass, FindingId, type Finding, type FindingException, type LocatedFinding } from "./findings.ts";

export interface ExceptionEntry {
  readonly rule: string;
  readonly object: string;
  readonly reason: string;
  readonly who: string;
  /** YYYY-MM-DD. */
  readonly expires: string;
  readonly line: number;
  readonly column: number;
}

export interface ExceptionsFile {
  readonly file: string;
  readonly entries: readonly ExceptionEntry[];
}

const KEYS = ["rule", "object", "reason", "who", "expires"] as const;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The entries, or one `file:line:column: key: problem` line per problem. */
export function parseExceptions(text: string, file: string): ExceptionsFile | { readonly errors: readonly string[] } {
  const source = YamlSource.parse(text, file);
  if (!(source instanceof YamlSource)) return { errors: [`${file}:${source.position.line}:${source.position.column}: ${source.message}`] };
  const errors: string[] = [];
  const at = (path: Path, problem: string, where: "key" | "value" = "value") => {
    const p = source.locate(path, where);
    errors.push(`${file}:${p.line}:${p.column}: ${formatPath(path)}: ${problem}`);
  };
  const root = source.value;
  if (root === null || typeof root !== "object" || Array.isArray(root)) return { errors: [`${file}:1:1: (document): must be a mapping with the key "exceptions"`] };
  for (const key of Object.keys(root)) if (key !== "exceptions") at([key], `unknown key ${JSON.stringify(key)}; the file holds "exceptions" only`, "key");
  const list = (root as { exceptions?: unknown }).exceptions;
  if (!Array.isArray(list)) {
    at(["exceptions"], "must be a list of entries (rule, object, reason, who, expires)");
    return { errors };
  }
  const entries: ExceptionEntry[] = [];
  list.forEach((raw: unknown, i) => {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) { at(["exceptions", i], "must be a mapping with rule, object, reason, who, expires"); return; }
    const item = raw as Record<string, unknown>;
    for (const key of Object.keys(item)) if (!(KEYS as readonly string[]).includes(key)) at(["exceptions", i, key], `unknown key ${JSON.stringify(key)}; an entry has ${KEYS.join(", ")}`, "key");
    const values: Partial<Record<(typeof KEYS)[number], string>> = {};
    for (const key of KEYS) {
      let v = item[key];
      // An unquoted 2027-01-31 is a YAML timestamp.
      if (key === "expires" && v instanceof Date && !Number.isNaN(v.getTime())) v = v.toISOString().slice(0, 10);
      if (v === undefined) { at(["exceptions", i], `the key "${key}" is missing`); continue; }
      if (typeof v !== "string" || v.trim() === "") { at(["exceptions", i, key], `must be a non-empty string; found ${JSON.stringify(v)}`); continue; }
      if (key === "expires" && (!DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)))) { at(["exceptions", i, key], `must be a date YYYY-MM-DD; found ${JSON.stringify(v)}`); continue; }
      values[key] = v;
    }
    if (KEYS.every((k) => values[k] !== undefined)) {
      const p = source.locate(["exceptions", i], "value");
      entries.push({ ...(values as Record<(typeof KEYS)[number], string>), line: p.line, column: p.column });
    }
  });
  return errors.length > 0 ? { errors } : { file, entries };
}

/** True when the entry no longer holds on `today` (YYYY-MM-DD): it holds through its expiry day. */
export function isExpired(entry: Pick<ExceptionEntry, "expires">, today: string): boolean {
  return entry.expires < today;
}

/**
 * Marks the findings a live entry matches (same id, same object) as excepted, and adds a finding
 * for each expired entry and an `info` one for each entry that matched nothing. `today` is the
 * snapshot's date (YYYY-MM-DD), so a result is reproducible from its own evidence.
 */
export function applyExceptions(findings: readonly LocatedFinding[], exceptions: ExceptionsFile, today: string): LocatedFinding[] {
  const used = new Set<ExceptionEntry>();
  const marked = findings.map((f): LocatedFinding => {
    const entry = exceptions.entries.find((e) => e.rule === f.id && e.object === f.object);
    if (!entry) return f;
    used.add(entry);
    if (isExpired(entry, today)) return f;
    const excepted: FindingException = { reason: entry.reason, who: entry.who, expires: entry.expires, at: `${exceptions.file}:${entry.line}` };
    return { ...f, excepted };
  });
  const extra = exceptions.entries.flatMap((e): LocatedFinding[] => {
    const base = { object: `exception for ${e.rule} on ${e.object}`, path: [], file: exceptions.file, line: e.line, column: e.column };
    if (isExpired(e, today)) {
      return [{
        ...base, class: FindingClass.changed, id: FindingId.exceptionExpired,
        message: `the exception for ${e.rule} on ${e.object} (${e.who}: ${e.reason}) expired on ${e.expires}; it excepts nothing until renewed`,
        declared: e.expires, found: today,
      } satisfies Finding & { line: number; column: number }];
    }
    if (!used.has(e)) {
      return [{ ...base, class: FindingClass.info, id: FindingId.exceptionUnused, message: `the exception for ${e.rule} on ${e.object} matches no finding` }];
    }
    return [];
  });
  return [...marked, ...extra];
}
