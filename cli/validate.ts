// `tenancy validate <file>...`: every violation of every file, all at once.
import { access, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { checkDeclarationFile, type LocatedViolation } from "../policies/declaration.ts";
import { Severity } from "../policies/rules/index.ts";
import { Exit, ExitError } from "./errors.ts";
import { escapeText } from "../components/escape.ts";

export interface ValidateOptions {
  /** Declaration files, or stack directories holding a `tenancy.yaml`. */
  readonly files: readonly string[];
}

export interface ValidateResult {
  readonly valid: boolean;
  readonly files: readonly string[];
  readonly violations: readonly LocatedViolation[];
}

export async function validate(options: ValidateOptions, cwd: string): Promise<ValidateResult> {
  const files = await Promise.all(options.files.map((file) => declarationPath(file, cwd)));
  const reports = await Promise.all(files.map(({ shown, absolute }) =>
    checkDeclarationFile(absolute).then((r) => r.violations.map((v) => ({ ...v, file: shown })))));
  const violations = reports.flat();
  return { valid: !violations.some((v) => v.severity === Severity.Error), files: files.map((f) => f.shown), violations };
}

/** Resolves one argument, refusing (exit 2) what cannot be read before anything is checked. */
async function declarationPath(arg: string, cwd: string): Promise<{ shown: string; absolute: string }> {
  const absolute = resolve(cwd, arg);
  try {
    if ((await stat(absolute)).isDirectory()) {
      const inside = join(absolute, "tenancy.yaml");
      await access(inside);
      return { shown: join(arg, "tenancy.yaml"), absolute: inside };
    }
    await access(absolute);
    return { shown: arg, absolute };
  } catch (error) {
    throw new ExitError(`cannot read ${arg}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, Exit.Usage);
  }
}

export function formatText(result: ValidateResult): string {
  // Messages quote declaration values: escapeText keeps each violation on its own visible line.
  const lines = result.violations.map((v) => escapeText(`${v.file}:${v.line}:${v.column} ${v.rule} ${v.message}`));
  const errors = result.violations.filter((v) => v.severity === Severity.Error).length;
  const warnings = result.violations.length - errors;
  const files = `${result.files.length} file${result.files.length === 1 ? "" : "s"}`;
  lines.push(result.violations.length === 0
    ? `${files} valid`
    : `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"} in ${files}`);
  return lines.join("\n") + "\n";
}

export function formatJson(result: ValidateResult): string {
  return JSON.stringify({ valid: result.valid, violations: result.violations }, null, 2) + "\n";
}
