// `tenancy credentials --stack <name>`: what the SaaS needs to connect as each workspace and open
// its sealed integration credentials — the app role, its password and the workspace's data key.
//
// The provider derives the password and the key from the stack's master key inside its own
// process and never returns them (so no engine log can print them); this command derives the
// same values here, from the master key in the stack's config, for the workspaces the stack's
// outputs list (with the key generation each was applied with). Values are shown only with
// --show-secrets, like `pulumi stack output`; without it they read "[secret]".
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { deriveAppPassword, deriveWorkspaceKey } from "../components/credentials-crypto.ts";
import { openStack, postgresFromConfig } from "./engine.ts";
import { Exit, ExitError } from "./errors.ts";

export interface CredentialsCommandOptions {
  readonly stack: string;
  /** Only these workspaces (slugs). Default: every workspace of the stack. */
  readonly workspace?: readonly string[];
  /** Print the password and the key; otherwise "[secret]". */
  readonly showSecrets?: boolean;
}

export interface WorkspaceCredentialsOut {
  readonly schema: string;
  readonly appRole: string;
  readonly keyGeneration: string;
  readonly appPassword: string;
  /** Opens the workspace's `integration_credentials` rows (components/credentials-crypto.ts openCredential). */
  readonly credentialsKey: string;
}

export interface CredentialsResult {
  readonly stack: string;
  readonly organization: string;
  readonly postgres: { readonly host: string; readonly port: number; readonly database: string };
  readonly workspaces: Readonly<Record<string, WorkspaceCredentialsOut>>;
}

const HIDDEN = "[secret]";

export async function credentials(options: CredentialsCommandOptions, cwd: string): Promise<CredentialsResult> {
  let stack: Stack;
  try {
    const backendUrl = process.env.PULUMI_BACKEND_URL;
    ({ stack } = await openStack({ root: cwd, stack: options.stack, mustExist: true, ...(backendUrl ? { backendUrl } : {}) }));
  } catch (error) {
    if (error instanceof ExitError) throw error; // already one line (a stack without a passphrase)
    throw new ExitError(`cannot read stack "${options.stack}": ${engineLine(error)}`, Exit.Usage);
  }
  return credentialsOf(stack, options);
}

/** The same, for a stack already open (the e2e tests log in with what this returns). */
export async function credentialsOf(stack: Stack, options: Omit<CredentialsCommandOptions, "stack">): Promise<CredentialsResult> {
  let config: Record<string, { value: string }>;
  let outputs: Record<string, { value: unknown }>;
  try {
    config = await stack.getAllConfig();
    outputs = await stack.outputs();
  } catch (error) {
    throw new ExitError(`cannot read stack "${stack.name}": ${engineLine(error)}`, Exit.Usage);
  }
  const name = stack.name;
  const master = config["tenancy:credentialsMasterKey"]?.value;
  if (master === undefined) throw new ExitError(`stack "${name}" has no tenancy:credentialsMasterKey: nothing was derived from one`, Exit.Usage);
  const organization = outputs.organization?.value;
  const applied = outputs.workspaces?.value as Record<string, { schema: string; appRole: string; keyGeneration?: string }> | undefined;
  if (typeof organization !== "string" || !applied) throw new ExitError(`stack "${name}" has no workspaces in its outputs: apply it first (pulumi up or tenancy demo)`, Exit.Usage);
  const wanted = options.workspace && options.workspace.length > 0 ? options.workspace : Object.keys(applied).sort();
  const unknown = wanted.filter((slug) => !(slug in applied));
  if (unknown.length > 0) throw new ExitError(`stack "${name}" has no workspace ${unknown.map((s) => JSON.stringify(s)).join(", ")}; it has ${Object.keys(applied).sort().join(", ")}`, Exit.Usage);

  const workspaces: Record<string, WorkspaceCredentialsOut> = {};
  for (const slug of wanted) {
    const w = applied[slug]!;
    const generation = w.keyGeneration ?? "1";
    workspaces[slug] = {
      schema: w.schema,
      appRole: w.appRole,
      keyGeneration: generation,
      appPassword: options.showSecrets ? await deriveAppPassword(master, organization, slug, generation) : HIDDEN,
      credentialsKey: options.showSecrets ? await deriveWorkspaceKey(master, organization, slug, generation) : HIDDEN,
    };
  }
  const pg = postgresFromConfig((key) => config[key]?.value);
  return {
    stack: name,
    organization,
    postgres: { host: pg.host, port: pg.port, database: pg.database },
    workspaces,
  };
}

/** The engine's own words, first line only: it names the stack or the passphrase problem, never a value. */
function engineLine(error: unknown): string {
  const text = String((error as { stderr?: string }).stderr || (error as Error).message || error);
  const line = text.split("\n").map((l) => l.trim()).find((l) => l.startsWith("error:"));
  return line ? line.replace(/^error:\s*/, "") : "the engine could not open it";
}

/** `env`: one `KEY=value` line per value, for a secret store or an env file (mode 600). */
export function formatCredentials(result: CredentialsResult, format: "json" | "env"): string {
  if (format === "json") return `${JSON.stringify(result, null, 2)}\n`;
  const lines = [`TENANCY_ORGANIZATION=${result.organization}`, `PGHOST=${result.postgres.host}`, `PGPORT=${result.postgres.port}`, `PGDATABASE=${result.postgres.database}`];
  for (const [slug, w] of Object.entries(result.workspaces)) {
    const prefix = `TENANCY_${slug.toUpperCase().replace(/-/g, "_")}`;
    lines.push(`${prefix}_SCHEMA=${w.schema}`, `${prefix}_APP_ROLE=${w.appRole}`, `${prefix}_APP_PASSWORD=${w.appPassword}`, `${prefix}_CREDENTIALS_KEY=${w.credentialsKey}`);
  }
  return `${lines.join("\n")}\n`;
}
