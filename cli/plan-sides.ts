// Reading the two sides of a plan: a file, a stack directory, or `REF:path` from git. A side that
// does not exist is `undefined` (a new or a removed stack); a side that cannot be read, or a git
// ref that does not exist, is a usage error (exit 2) before anything is compared.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { promisify } from "node:util";
import type { SideText } from "../policies/plan/plan.ts";
import { Exit, ExitError } from "./errors.ts";

const run = promisify(execFile);
const DECLARATION = "tenancy.yaml";

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    // Arguments as a list, never a shell line: refs and paths come from users.
    return (await run("git", args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" })).stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim().split("\n")[0];
    throw new ExitError(`git ${args[0]} failed: ${stderr || (error as Error).message}`, Exit.Usage);
  }
}

async function gitOk(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 })).stdout;
  } catch {
    return undefined;
  }
}

/** Fails (exit 2) unless `ref` names a commit. */
export async function verifyRef(ref: string, cwd: string): Promise<void> {
  if (ref.startsWith("-")) throw new ExitError(`not a git ref: ${JSON.stringify(ref)}`, Exit.Usage);
  if ((await gitOk(cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])) === undefined) {
    throw new ExitError(`unknown git ref ${JSON.stringify(ref)} (fetch it first, e.g. git fetch origin main)`, Exit.Usage);
  }
}

/** `REF:path` in git, a file, or a stack directory; undefined when it does not exist. */
export async function readSide(arg: string, cwd: string): Promise<SideText | undefined> {
  const absolute = resolve(cwd, arg);
  const onDisk = await stat(absolute).catch(() => undefined);
  const gitSpec = /^([^:]+):(.*)$/.exec(arg);
  if (!onDisk && gitSpec && !/^[A-Za-z]$/.test(gitSpec[1]!)) return readGitSide(gitSpec[1]!, gitSpec[2]!, cwd);
  if (!onDisk) return undefined;
  const file = onDisk.isDirectory() ? join(absolute, DECLARATION) : absolute;
  const shown = onDisk.isDirectory() ? join(arg, DECLARATION) : arg;
  try {
    const bytes = await readFile(file);
    return { source: shown, text: bytes.toString("utf8"), sha256: sha256(bytes), file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new ExitError(`cannot read ${shown}: ${code ?? String(error)}`, Exit.Usage);
  }
}

async function readGitSide(ref: string, path: string, cwd: string): Promise<SideText | undefined> {
  await verifyRef(ref, cwd);
  // A path without ./ is from the repository root, as in `git show REF:path`.
  const kind = (await gitOk(cwd, ["cat-file", "-t", `${ref}:${path}`]))?.trim();
  if (kind === undefined) return undefined;
  const file = kind === "tree" ? `${path.replace(/\/$/, "")}/${DECLARATION}` : path;
  if (kind === "tree" && (await gitOk(cwd, ["cat-file", "-t", `${ref}:${file}`])) === undefined) return undefined;
  const text = await git(cwd, ["show", `${ref}:${file}`]);
  return { source: `${ref}:${file}`, text, sha256: sha256(Buffer.from(text, "utf8")) };
}

/** The stack a side belongs to: `stacks/<name>/tenancy.yaml` -> `<name>`. */
export function stackNameOf(source: string): string | undefined {
  const match = /(?:^|[/:])stacks\/([^/]+)(?:\/tenancy\.yaml)?\/?$/.exec(source.split(sep).join("/"));
  return match?.[1];
}

export interface StackSides {
  readonly stack: string;
  readonly base: SideText | undefined;
  readonly head: SideText | undefined;
}

/** Every `stacks/<name>/tenancy.yaml` in the work tree or at `ref`, with both sides. */
export async function stacksSinceRef(ref: string, cwd: string): Promise<StackSides[]> {
  await verifyRef(ref, cwd);
  const prefix = (await git(cwd, ["rev-parse", "--show-prefix"])).trim();
  const atRef = (await git(cwd, ["ls-tree", "-r", "--name-only", ref, "--", `${prefix}stacks`]))
    .split("\n")
    .map((line) => line.slice(prefix.length))
    .map((path) => /^stacks\/([^/]+)\/tenancy\.yaml$/.exec(path)?.[1])
    .filter((name): name is string => name !== undefined);
  const inTree: string[] = [];
  for (const entry of await readdir(join(cwd, "stacks"), { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && (await stat(join(cwd, "stacks", entry.name, DECLARATION)).catch(() => undefined))) inTree.push(entry.name);
  }
  const names = [...new Set([...atRef, ...inTree])].sort();
  return Promise.all(names.map(async (stack) => {
    const path = `stacks/${stack}/${DECLARATION}`;
    const head = await readSide(path, cwd);
    const base = atRef.includes(stack) ? await readGitSide(ref, `${prefix}${path}`, cwd) : undefined;
    return { stack, base: base && { ...base, source: `${ref}:${path}` }, head };
  }));
}

/** A path relative to `root` when inside it, else absolute; what a plan file records. */
export function recordedPath(root: string, absolute: string): string {
  const rel = relative(root, absolute);
  return rel.startsWith("..") ? absolute : rel;
}
