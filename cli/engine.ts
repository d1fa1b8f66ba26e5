// The real Pulumi engine, driven through the Automation API, with the toolchain resolved
// locally and state kept on disk under .tenancy/. Shared by `demo` and the e2e tests.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as semver from "semver";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { resolveToolchain } from "../scripts/toolchain/resolve.mjs";
import { generateDataKey } from "../components/credentials-crypto.ts";
import type { TenancyModel } from "../config/model.ts";
import type { LocalPostgres } from "./local/postgres.ts";

/**
 * Demo only: the passphrase that encrypts the local demo stacks' secrets. Anyone with the
 * repository knows it, so it protects nothing; set PULUMI_CONFIG_PASSPHRASE (or use a real
 * secrets provider) for anything that matters.
 */
export const DEMO_PASSPHRASE = "tenancy-demo-passphrase-not-secret";

export interface EngineOptions {
  /** Project root (holds Pulumi.yaml). */
  readonly root: string;
  readonly stack: string;
  /** State backend; default `file://<root>/.tenancy/state`. */
  readonly backendUrl?: string;
  readonly log?: (line: string) => void;
}

export interface EngineStack {
  readonly stack: Stack;
  readonly toolchain: { readonly pulumi: string; readonly languageHost: string; readonly env: Record<string, string> };
}

export async function openStack(options: EngineOptions): Promise<EngineStack> {
  const log = options.log ?? (() => {});
  const toolchain = await resolveToolchain({ log });
  const backendDir = join(options.root, ".tenancy", "state");
  if (!options.backendUrl) await mkdir(backendDir, { recursive: true });
  const pulumiCommand = await PulumiCommand.get({
    root: dirname(dirname(toolchain.pulumiBin)),
    version: semver.parse(toolchain.versions.pulumi)!,
  });
  const envVars: Record<string, string> = {
    ...toolchain.env,
    PULUMI_BACKEND_URL: options.backendUrl ?? `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? DEMO_PASSPHRASE,
  };
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: options.stack, workDir: options.root },
    { pulumiCommand, envVars },
  );
  return { stack, toolchain: { pulumi: toolchain.versions.pulumi, languageHost: toolchain.versions.languageHost, env: toolchain.env } };
}

/**
 * Demo and test stacks only: fills in the secrets a real stack's owner sets by hand — the
 * credentials master key (random) and each integration's credential (an obvious placeholder).
 * Returns the keys it set. Existing values are never touched.
 */
export async function ensureDemoSecrets(stack: Stack, model: TenancyModel): Promise<string[]> {
  const existing = new Set(Object.keys(await stack.getAllConfig()));
  const project = (await stack.workspace.projectSettings()).name;
  const qualified = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
  // One `pulumi config set-all` for everything missing: a CLI call per key costs ~1 s each.
  const missing: Record<string, { value: string; secret: true }> = {};
  if (!existing.has(`${project}:credentialsMasterKey`)) {
    missing[`${project}:credentialsMasterKey`] = { value: await generateDataKey(), secret: true };
  }
  for (const ws of model.workspaces) {
    for (const integration of ws.integrations) {
      const key = qualified(integration.credentialsSecret);
      if (existing.has(key) || Object.hasOwn(missing, key)) continue;
      missing[key] = { value: `demo-placeholder-credential-for-${integration.provider}`, secret: true };
    }
  }
  const set = Object.keys(missing);
  if (set.length > 0) await stack.setAllConfig(missing);
  return set;
}

/** Points a stack at a PostgreSQL server: non-secret settings in clear, the password as a secret. */
export async function configurePostgres(stack: Stack, server: Pick<LocalPostgres, "host" | "port" | "user" | "password" | "database">): Promise<void> {
  await stack.setAllConfig({
    "postgres:host": { value: server.host },
    "postgres:port": { value: String(server.port) },
    "postgres:user": { value: server.user },
    "postgres:database": { value: server.database },
    "postgres:password": { value: server.password, secret: true },
  });
}
