// Engine failures as a person should read them: one line, redacted, plus where the full output
// is. The Automation API's CommandError carries the whole command result (stdout, stderr, and
// for a failed spawn the command line itself); printed as is, it is pages long and repeats
// every secret it saw. The full text goes to a mode-600 log under .tenancy/logs/, redacted too.
// Engine output quotes catalog names (a procedure named with ESC or CR sequences forged lines in
// the terminal, this line and the log): the line is escaped whole, the log and the streamed
// output line by line (components/escape.ts).
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { escapeText } from "../components/escape.ts";
import { Exit, ExitError } from "./errors.ts";

export interface EngineErrorOptions {
  /** Every secret value this run knows of (passwords, keys, passphrase). Never printed. */
  readonly secrets: readonly string[];
  /** Folder for the full log; created with mode 700. */
  readonly logDir: string;
  /** Shown paths are relative to this folder. */
  readonly cwd?: string;
}

/** Text with every known secret, and anything shaped like a password or connection string, hidden. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret containing another is hidden whole.
  for (const secret of [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join("[secret]");
  }
  return out
    // scheme://user:password@host
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, "$1:[secret]@")
    // password=..., "password": "...", PGPASSWORD=..., passphrase: ..., --secret key=value
    .replace(/\b((?:[A-Z_]*PASSWORD|[a-z_]*password|passphrase|PASSPHRASE|secret|SECRET|token|TOKEN|apiKey|api_key)"?\s*[=:]\s*"?)(?!\[secret\])[^\s",;]+/g, "$1[secret]")
    .replace(/(--secret\s+[^\s=]+=)\S+/g, "$1[secret]");
}

/** Text for a terminal or a log, keeping its line breaks: each line through escapeText (a lone CR too). */
export function escapeLines(text: string): string {
  return text.split(/\r?\n/).map(escapeText).join("\n");
}

/**
 * The one line worth reading in an engine failure: the first `error:` line that says more than
 * "update failed", joined with the line after it when it ends in a colon (a list follows).
 */
export function firstErrorLine(output: string): string | undefined {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  const generic = /^error: (update|preview|refresh|destroy) failed$|^error: an unhandled error occurred|^error: program failed/i;
  for (const [i, line] of lines.entries()) {
    if (!/^error:/i.test(line) || generic.test(line)) continue;
    let text = line.replace(/^error:\s*/i, "");
    // Pulumi wraps program failures: "Running program '...' failed with an unhandled exception:"
    if (/failed with an unhandled exception:$/.test(text) && lines[i + 1]) text = lines[i + 1]!.replace(/^(Error|RunError):\s*/, "");
    else if (text.endsWith(":") && lines[i + 1] && !/^at /.test(lines[i + 1]!)) text = `${text} ${lines[i + 1]}`;
    // Providers often print "X: Error: X"; once is enough.
    return text.replace(/^(.+): (?:\w*Error: )?\1$/, "$1");
  }
  return undefined;
}

interface CommandResultLike { readonly stdout?: string; readonly stderr?: string; readonly code?: number; readonly err?: unknown }

/** Everything an error carries, as text (CommandError's result, or message and cause). */
function fullText(error: unknown): { text: string; output: string } {
  const result = (error as { commandResult?: CommandResultLike } | null)?.commandResult;
  if (result) {
    const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`;
    const spawn = result.err instanceof Error ? `\n${result.err.message}` : "";
    return { text: `exit code: ${result.code}\n--- stderr\n${result.stderr ?? ""}\n--- stdout\n${result.stdout ?? ""}${spawn}\n`, output: output + spawn };
  }
  if (error instanceof Error) return { text: `${error.stack ?? error.message}\n`, output: error.message };
  return { text: `${String(error)}\n`, output: String(error) };
}

/** Writes the full, redacted output to a new mode-600 log; returns its path. */
async function writeLog(text: string, step: string, options: EngineErrorOptions): Promise<string> {
  await mkdir(options.logDir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = join(options.logDir, `${stamp}-${step.replace(/[^a-z0-9-]+/gi, "-")}-${process.pid}.log`);
  await writeFile(file, escapeLines(redact(text, options.secrets)), { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600); // the umask may have narrowed it; never widened
  return file;
}

/** An engine failure as an ExitError: one redacted line naming the step, and the log's path. */
export async function engineFailure(step: string, error: unknown, options: EngineErrorOptions): Promise<ExitError> {
  const { text, output } = fullText(error);
  const log = await writeLog(`${step} failed\n${text}`, step, options);
  const concurrent = (error as { name?: string } | null)?.name === "ConcurrentUpdateError";
  const line = concurrent
    ? "the stack is locked by another update in progress; wait for it to finish (or, if it died, run `pulumi cancel`)"
    : firstErrorLine(output) ?? output.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== "" && !/^(code|stdout|stderr|err\?):/.test(l)) ?? "unknown error";
  const shown = options.cwd ? relative(options.cwd, log) : log;
  return new ExitError(`${step} failed: ${escapeText(redact(line, options.secrets))} (full log: ${escapeText(shown)})`, Exit.Engine);
}

/** Runs one engine step; a failure becomes `engineFailure`'s ExitError. */
export async function engineStep<T>(step: string, options: EngineErrorOptions, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ExitError) throw error;
    throw await engineFailure(step, error, options);
  }
}
