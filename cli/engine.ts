// The real Pulumi engine, driven through the Automation API, with the toolchain resolved
// locally and state kept on disk under .tenancy/. Shared by `demo` and the e2e tests.
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { load } from "js-yaml";
import * as semver from "semver";
import { CommandError, LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { resolveToolchain } from "../scripts/toolchain/resolve.mjs";
import { generateDataKey } from "../components/credentials-crypto.ts";
import type { TenancyModel } from "../config/model.ts";
import { credentialKey } from "../config/secrets.ts";
import type { LocalPostgres } from "./local/postgres.ts";
import { escapeText } from "../components/escape.ts";
import { Exit, ExitError } from "./errors.ts";

/**
 * Demo only: the passphrase that encrypts the local demo stacks' secrets. Anyone with the
 * repository knows it, so it protects nothing; set PULUMI_CONFIG_PASSPHRASE (or use a real
 * secrets provider) for anything that matters. Used only for a stack opened with `demo: true`
 * (the demo, tests, benches) or one the demo created in its local backend; any other stack
 * without a passphrase or secrets provider is refused (stackPassphrase).
 */
export const DEMO_PASSPHRASE = "tenancy-demo-passphrase-not-secret";

export interface EngineOptions {
  /** Project root (holds Pulumi.yaml). */
  readonly root: string;
  readonly stack: string;
  /** State backend; default `file://<root>/.tenancy/state`. */
  readonly backendUrl?: string;
  readonly log?: (line: string) => void;
  /** Select an existing stack only (default: create it if absent). */
  readonly mustExist?: boolean;
  /**
   * A throwaway stack (the demo's, a test's, a bench's): without PULUMI_CONFIG_PASSPHRASE its
   * secrets are encrypted with the public DEMO_PASSPHRASE. Default false: only a stack the demo
   * created in the local backend may use it; any other needs PULUMI_CONFIG_PASSPHRASE,
   * PULUMI_CONFIG_PASSPHRASE_FILE or a secrets provider of its own.
   */
  readonly demo?: boolean;
}

/** Where `tenancy demo` lists the stacks it created in the local backend with DEMO_PASSPHRASE. */
const demoStacksFile = (root: string) => join(root, ".tenancy", "demo-stacks.json");

async function demoStacks(root: string): Promise<string[]> {
  try {
    const list: unknown = JSON.parse(await readFile(demoStacksFile(root), "utf8"));
    return Array.isArray(list) ? list.filter((s): s is string => typeof s === "string") : [];
  } catch {
    return [];
  }
}

/** The secrets provider in the stack's config file (`secretsprovider:`), if it names one. */
async function secretsProviderOf(root: string, stack: string): Promise<string | undefined> {
  try {
    const project = load(await readFile(join(root, "Pulumi.yaml"), "utf8")) as { stackConfigDir?: string } | undefined;
    const file = join(root, project?.stackConfigDir ?? "", `Pulumi.${stack.split("/").pop()}.yaml`);
    const config = load(await readFile(file, "utf8")) as { secretsprovider?: unknown } | undefined;
    return typeof config?.secretsprovider === "string" ? config.secretsprovider : undefined;
  } catch {
    return undefined; // no such file (a new stack), or not ours to judge: the engine will say
  }
}

/**
 * The PULUMI_CONFIG_PASSPHRASE to give the engine for this stack: the environment's; none when
 * the environment has PULUMI_CONFIG_PASSPHRASE_FILE or the stack another secrets provider (the
 * engine reads those itself); the public DEMO_PASSPHRASE for a demo stack (`demo`, or one the
 * demo created in the local backend). Any other stack is refused (exit 2): its secrets would be
 * encrypted with a passphrase everyone knows.
 */
export async function stackPassphrase(options: Pick<EngineOptions, "root" | "stack" | "backendUrl" | "demo">, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) return undefined;
  const provider = await secretsProviderOf(options.root, options.stack);
  if (provider !== undefined && provider !== "passphrase" && provider !== "default") return undefined;
  if (options.demo || (!options.backendUrl && (await demoStacks(options.root)).includes(options.stack))) return DEMO_PASSPHRASE;
  throw new ExitError(`stack "${escapeText(options.stack)}" has no passphrase for its secrets: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE, or give the stack a secrets provider); the public demo passphrase is only for the demo's own stacks`, Exit.Usage);
}

/**
 * Flags of the engine we turn on. PULUMI_PARALLEL_DIFF (experimental in 3.246.0): the engine asks
 * the provider for its diffs in parallel, not one at a time, so the boundaries' crossing checks
 * arrive together and run batched (provider/postgres/crossings-batch.ts): at 1,000 workspaces a
 * no-change preview spends about a third of the PostgreSQL CPU it did. PULUMI_PARALLEL_DIFF=false
 * in the environment turns it off again.
 */
export function engineFlags(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { PULUMI_PARALLEL_DIFF: env.PULUMI_PARALLEL_DIFF ?? "true" };
}

export interface EngineStack {
  readonly stack: Stack;
  readonly toolchain: { readonly pulumi: string; readonly languageHost: string; readonly env: Record<string, string> };
}

export async function openStack(options: EngineOptions): Promise<EngineStack> {
  const log = options.log ?? (() => {});
  // First, before the engine starts: a real stack without a passphrase is refused.
  const passphrase = await stackPassphrase(options);
  const toolchain = await resolveToolchain({ log });
  const backendDir = join(options.root, ".tenancy", "state");
  if (!options.backendUrl) await mkdir(backendDir, { recursive: true });
  const pulumiCommand = await PulumiCommand.get({
    root: dirname(dirname(toolchain.pulumiBin)),
    version: semver.parse(toolchain.versions.pulumi)!,
  });
  const envVars: Record<string, string> = {
    ...toolchain.env,
    ...engineFlags(),
    PULUMI_BACKEND_URL: options.backendUrl ?? `file://${backendDir}`,
    ...(passphrase === undefined ? {} : { PULUMI_CONFIG_PASSPHRASE: passphrase }),
  };
  const args = { stackName: options.stack, workDir: options.root };
  const stack = options.mustExist
    ? await LocalWorkspace.selectStack(args, { pulumiCommand, envVars })
    : await LocalWorkspace.createOrSelectStack(args, { pulumiCommand, envVars });
  // The demo's own stacks in the local backend keep the demo passphrase for later commands
  // (`tenancy credentials --stack dev`), and only they.
  if (options.demo && !options.backendUrl && passphrase === DEMO_PASSPHRASE) {
    const known = await demoStacks(options.root);
    if (!known.includes(options.stack)) await writeFile(demoStacksFile(options.root), `${JSON.stringify([...known, options.stack])}\n`);
  }
  return { stack, toolchain: { pulumi: toolchain.versions.pulumi, languageHost: toolchain.versions.languageHost, env: toolchain.env } };
}

/**
 * Runs the stack's own pulumi binary, in its workspace, with the environment the Automation API
 * gives it (backend, passphrase, PULUMI_HOME, PATH), feeding `input` on stdin. For what the
 * Automation API can only pass as process arguments.
 */
export async function runPulumi(stack: Stack, args: readonly string[], input = ""): Promise<string> {
  return (await runPulumiOutput(stack, args, input)).stdout;
}

/** runPulumi, with what the command wrote to stderr too (the engine's logs go there). */
export async function runPulumiOutput(stack: Stack, args: readonly string[], input = ""): Promise<{ stdout: string; stderr: string }> {
  const ws = stack.workspace as LocalWorkspace;
  const command = ws.pulumiCommand.command;
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...(ws.pulumiHome ? { PULUMI_HOME: ws.pulumiHome } : {}),
    ...ws.envVars,
    PULUMI_AUTOMATION_API: "true",
  };
  if (command.includes("/")) env.PATH = `${dirname(command)}:${env.PATH ?? ""}`;
  const full = [...args, "--stack", stack.name, "--non-interactive"];
  return new Promise((done, fail) => {
    const child = spawn(command, full, { cwd: ws.workDir, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => {
      if (code === 0) done({ stdout, stderr });
      // Same shape as the Automation API's errors, so one handler reports both.
      else fail(Object.assign(new CommandError({ stdout, stderr, code: code ?? -1, err: undefined } as never), { name: "CommandError" }));
    });
    child.stdin.end(input);
  });
}

/**
 * Sets secret config values without ever putting one on a command line (where /proc/<pid>/cmdline
 * shows it to every local user): `pulumi config set --secret <key>` reads the value from stdin.
 * One process per key (~1 s each, most of it the passphrase's key derivation), since `set-all`
 * takes values only as arguments; sequential, since each rewrites the stack's config file.
 */
export async function setSecretConfig(stack: Stack, values: Readonly<Record<string, string>>): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    await runPulumi(stack, ["config", "set", "--secret", key], value);
  }
}

/** Keys of the stack's config, without decrypting any secret. */
async function configKeys(stack: Stack): Promise<Set<string>> {
  return new Set(Object.keys(JSON.parse(await runPulumi(stack, ["config", "--json"])) as object));
}

/**
 * Demo and test stacks only: fills in the secrets a real stack's owner sets by hand — the
 * credentials master key (random) and each integration's credential (an obvious placeholder).
 * Returns the keys it set. Existing values are never touched.
 */
export async function ensureDemoSecrets(stack: Stack, model: TenancyModel): Promise<string[]> {
  const existing = await configKeys(stack);
  const project = (await stack.workspace.projectSettings()).name;
  const masterKey = `${project}:credentialsMasterKey`;
  // The master key is a real secret: through stdin.
  if (!existing.has(masterKey)) await setSecretConfig(stack, { [masterKey]: await generateDataKey() });
  // The placeholders are public text (written here, in the source), stored as secrets only so
  // the program reads them like real credentials. One `set-all` for all of them: a process per
  // key costs ~1 s (measured: 1 key 1.2 s, 20 keys in one set-all 1.0 s, 5 keys one by one 5.2 s).
  const placeholders: Record<string, { value: string; secret: true }> = {};
  for (const ws of model.workspaces) {
    for (const integration of ws.integrations) {
      const key = credentialKey(integration.credentialsSecret);
      if (existing.has(key) || Object.hasOwn(placeholders, key)) continue;
      placeholders[key] = { value: `demo-placeholder-credential-for-${integration.provider}`, secret: true };
    }
  }
  if (Object.keys(placeholders).length > 0) await stack.setAllConfig(placeholders);
  return [...(existing.has(masterKey) ? [] : [masterKey]), ...Object.keys(placeholders)];
}

/** Points a stack at a PostgreSQL server: non-secret settings in clear, the password as a secret through stdin. */
export async function configurePostgres(stack: Stack, server: Pick<LocalPostgres, "host" | "port" | "user" | "password" | "database">): Promise<void> {
  await stack.setAllConfig({
    "postgres:host": { value: server.host },
    "postgres:port": { value: String(server.port) },
    "postgres:user": { value: server.user },
    "postgres:database": { value: server.database },
  });
  await setSecretConfig(stack, { "postgres:password": server.password });
}

/** The admin connection's settings from stack config, with index.ts's defaults (no password). */
export function postgresFromConfig(get: (key: string) => string | undefined): { host: string; port: number; user: string; database: string } {
  return {
    host: get("postgres:host") ?? "127.0.0.1",
    port: Number(get("postgres:port") ?? 5432),
    user: get("postgres:user") ?? "postgres",
    database: get("postgres:database") ?? "postgres",
  };
}
