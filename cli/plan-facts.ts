// The facts a plan file binds, measured the same way at plan time and at apply time: commits, the
// digest of the code that runs, the toolkit's version, declaration and config digests, and (through
// the engine) where the stack lives and the state it is in. Both commands use this module; it
// uses neither.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { parse } from "yaml";
import { packageFacts } from "../audit/evidence.ts";
import { Exit, ExitError } from "./errors.ts";
import { shown, type Digest, type StackIdentity, type StateVersion } from "./plan-file.ts";
import { recordedPath, sha256 } from "./plan-sides.ts";

const run = promisify(execFile);

export function stackConfigPath(root: string, stack: string): string {
  return join(root, "stacks", `Pulumi.${stack}.yaml`);
}

export async function digestOf(root: string, file: string): Promise<Digest> {
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw new ExitError(`cannot read ${shown(file)}: ${shown(error.code ?? String(error))}`, Exit.Usage);
  });
  return { path: recordedPath(root, file), sha256: bytes === null ? null : sha256(bytes) };
}

async function gitOut(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 })).stdout;
  } catch {
    return undefined;
  }
}

/** The commit a ref names, or null outside git / for no ref. */
export async function commitOf(root: string, ref: string | undefined): Promise<string | null> {
  if (ref === undefined || ref.startsWith("-")) return null;
  return (await gitOut(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]))?.trim() || null;
}

/**
 * SHA-256 over every file git tracks under `root` outside stacks/, as it is in the work tree (the
 * program, provider, policy pack and scripts that would run): path and content digest, sorted.
 * null outside git. Declarations and stack config are bound on their own, per stack.
 */
export async function codeDigest(root: string): Promise<string | null> {
  const listed = await gitOut(root, ["ls-files", "-z", "--", ".", ":(exclude)stacks"]);
  if (listed === undefined) return null;
  const files = listed.split("\0").filter(Boolean).sort();
  const lines: string[] = [];
  for (const file of files) {
    const bytes = await readFile(join(root, file)).catch(() => null);
    lines.push(`${file}\0${bytes === null ? "(absent)" : sha256(bytes)}\n`);
  }
  return sha256(lines.join(""));
}

/** name@version of this package, from the sources (one folder up) or dist/ (two). */
export async function toolkitVersion(): Promise<string> {
  const pkg = packageFacts();
  return `${pkg.name}@${pkg.version}`;
}

/** The Pulumi project's name, from Pulumi.yaml. */
export async function projectName(root: string): Promise<string> {
  const text = await readFile(join(root, "Pulumi.yaml"), "utf8").catch(() => "");
  const name = (parse(text) as { name?: unknown } | null)?.name;
  if (typeof name !== "string") throw new ExitError(`${shown(join(root, "Pulumi.yaml"))} names no Pulumi project`, Exit.Usage);
  return name;
}

/** The backend URL as recorded: the default's, and never with credentials (user:password@). */
export function backendOf(root: string, backendUrl: string | undefined): string {
  const url = backendUrl ?? `file://${join(root, ".tenancy", "state")}`;
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url;
  }
}

export async function identityOf(root: string, stack: string, backendUrl: string | undefined): Promise<StackIdentity> {
  return { backend: backendOf(root, backendUrl), project: await projectName(root), stack };
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * The stack's state as far as a review cares: every resource and pending operation, secrets
 * masked (their ciphertext is not ours to compare), canonical JSON, in a stable order. An update
 * changes it; a run that changes nothing does not (test/e2e/plan-apply.test.ts shows it), unlike
 * the update history's version, which every `up` bumps.
 */
export async function stateVersion(stack: Stack): Promise<StateVersion> {
  const exported = await stack.exportStack();
  const deployment = (exported.deployment ?? {}) as { resources?: unknown[]; pending_operations?: unknown[] };
  // Sorted: the engine writes resources in the order they registered, which varies from run to
  // run (the e2e test saw a no-op up reorder them, each resource unchanged).
  const resources = (deployment.resources ?? []).map((r) => canonical(masked(r))).sort();
  const pending = (deployment.pending_operations ?? []).map((p) => canonical(masked(p))).sort();
  return { resources: resources.length, sha256: sha256(`${resources.join("\n")}\n--\n${pending.join("\n")}`) };
}

function masked(value: unknown, key?: string): unknown {
  // A resource's dependencies are sets: the SDK resolves them concurrently, so a run that changes
  // nothing may list two of them the other way round (seen once a record depended on its
  // organization record and its boundary).
  if (Array.isArray(value)) return key === "dependencies" || key === "propertyDependencies" ? [...value].map((v) => masked(v)).sort() : value.map((v) => masked(v));
  if (value && typeof value === "object") {
    if (SECRET_SIG in value) return "[secret]";
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, key === "propertyDependencies" ? masked(v, key) : masked(v, k)]));
  }
  return value;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The stack program reads `tenancy:declaration`, else stacks/<stack>/tenancy.yaml: which file, absolute. */
export async function declarationRead(stack: Stack, name: string, root: string): Promise<string> {
  const configured = (await stack.getAllConfig())["tenancy:declaration"]?.value;
  return configured ? resolve(root, configured) : join(root, "stacks", name, "tenancy.yaml");
}

/** `pulumi preview --save-plan` with the policy pack: the engine's update plan, as JSON. */
export async function saveUpdatePlan(stack: Stack, root: string, log: (line: string) => void): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-save-plan-"));
  try {
    const file = join(dir, "update-plan.json");
    await stack.preview({ plan: file, policyPacks: [join(root, "policies")], onOutput: (out) => log(out.trimEnd()), color: "never" })
      .catch((error: unknown) => { throw new ExitError(`pulumi preview of stack ${shown(stack.name)} failed: ${shown(engineError(error))}`, Exit.Violations); });
    return JSON.parse(await readFile(file, "utf8"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` with the update plan written to a private temporary file. */
export async function withUpdatePlanFile<T>(updatePlan: unknown, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-update-plan-"));
  try {
    const file = join(dir, "update-plan.json");
    await writeFile(file, JSON.stringify(updatePlan), { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One line from an engine failure: its first `error:` line, never a stack trace. */
export function engineError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const first = lines.find((l) => /^error:/i.test(l) && !/^error: update failed$/i.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? lines[0] ?? "unknown error";
  return first.length > 400 ? `${first.slice(0, 400)}…` : first;
}
