// `tenancy audit`: the declared tenancy against live PostgreSQL, read-only, in one snapshot.
// Returns the typed result; cli/main.ts prints it in the chosen format and sets the exit code
// (0 clean, 1 findings, 2 error).
import { readFile, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import pg from "pg";
import { auditState, loadValidDeclaration, type AuditResult } from "../audit/audit.ts";
import { declarationEvidence, packageFacts, readServerEvidence, withEvidence } from "../audit/evidence.ts";
import { parseExceptions, type ExceptionsFile } from "../audit/exceptions.ts";
import { isDeviation, levelOf } from "../audit/findings.ts";
import { AUDIT_FORMATS, type AuditFormat } from "../audit/output.ts";
import { readPostgres } from "../audit/read-postgres.ts";
import { diffLogins, type LoginProbed } from "../audit/diff-logins.ts";
import { deriveAppPassword } from "../components/credentials-crypto.ts";
import { escapeText } from "../components/escape.ts";
import { sessionParameters } from "../provider/postgres/client.ts";
import { probeLogin } from "../provider/postgres/login-probe.ts";
import { Exit, ExitError } from "./errors.ts";

export interface AuditCommandOptions {
  /** A declaration file or a stack directory. Default with --stack: its `tenancy:declaration` or stacks/<stack>/tenancy.yaml. */
  readonly declaration?: string;
  /** `postgres://user@host:port/database`; the password comes from PGPASSWORD or ~/.pgpass. */
  readonly databaseUrl?: string;
  /** Read the connection from this stack's config (postgres:host/port/user/database, secret postgres:password). */
  readonly stack?: string;
  /** Pending invitations older than this many days are reported. Default 14. */
  readonly pendingInvitationDays?: number;
  /** The role managing the tenancy. Default: the database's owner. */
  readonly adminRole?: string;
  /**
   * Also audit the AWS credentials resources (KMS, Secrets Manager, IAM; metadata only), with the
   * standard AWS environment for credentials, region and endpoint. Default: on when the stack's
   * `tenancy:aws` says enabled, off with --database-url.
   */
  readonly aws?: boolean;
  /** An exceptions file (audit/exceptions.ts): accepted findings, each with reason, who and expiry. */
  readonly exceptions?: string;
}

export const FAIL_ON = ["error", "warning"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The findings that make the audit exit 1: not excepted, not info, and at `failOn`'s level or above. */
export function failingFindings(result: AuditResult, failOn: FailOn = "warning") {
  return result.findings.filter((f) => isDeviation(f) && (failOn === "warning" || levelOf(f) === "error"));
}

/** A connection's settings; the password never travels on a command line. */
/** `--also format=file`: the same audit result written in another format, to a file. */
export interface AlsoOutput {
  readonly format: AuditFormat;
  readonly file: string;
}

/** Parses `--also` values (`markdown=audit.md`); a bad one is a usage error naming it. */
export function parseAlso(values: readonly string[], cwd: string): AlsoOutput[] {
  return values.map((value) => {
    const at = value.indexOf("=");
    const format = at < 0 ? value : value.slice(0, at);
    const file = at < 0 ? "" : value.slice(at + 1);
    if (!(AUDIT_FORMATS as readonly string[]).includes(format) || file === "") {
      throw new ExitError(`--also ${escapeText(value)}: expected <format>=<file> with a format of ${AUDIT_FORMATS.join(", ")}`, Exit.Usage);
    }
    return { format: format as AuditFormat, file: resolve(cwd, file) };
  });
}

export type Connection = pg.ClientConfig;

export async function audit(options: AuditCommandOptions, cwd: string): Promise<AuditResult> {
  if ((options.databaseUrl === undefined) === (options.stack === undefined)) {
    throw new ExitError("give exactly one of --database-url and --stack", Exit.Usage);
  }
  const stackConfig = options.stack === undefined ? undefined : await readStackConfig(options.stack, cwd);
  const declarationArg = options.declaration ?? stackConfig?.declaration;
  if (declarationArg === undefined) throw new ExitError("--declaration is required with --database-url", Exit.Usage);
  const { shown, absolute } = await declarationPath(declarationArg, cwd);
  const bytes = await readFile(absolute);
  const declaration = loadValidDeclaration(bytes.toString("utf8"), shown);
  if ("errors" in declaration) {
    throw new ExitError(`${shown} is not a valid declaration (${declaration.errors.length} violation${declaration.errors.length === 1 ? "" : "s"}: run \`tenancy validate ${shown}\`); nothing was audited`, Exit.Usage);
  }
  const exceptions = options.exceptions === undefined ? undefined : await readExceptions(options.exceptions, cwd);
  const connection: Connection = stackConfig?.connection ?? { connectionString: options.databaseUrl! };
  const [server, read] = await withConnection(connection, async (client) => [await readServerEvidence(client), await readPostgres(client, declaration.model.organization!.slug)] as const);
  // With the stack, its derived app passwords: one login per workspace proves each still works.
  const logins = stackConfig ? await probeLogins(stackConfig, connection) : [];
  const withAws = options.aws ?? stackConfig?.aws ?? false;
  const aws = withAws ? await readAwsOrExit(declaration.model.organization!.slug, stackConfig?.awsRegion) : undefined;
  const result = auditState(declaration, read.state, {
    ...(options.pendingInvitationDays === undefined ? {} : { pendingInvitationDays: options.pendingInvitationDays }),
    ...(options.adminRole === undefined ? {} : { admin: options.adminRole }),
    ...(exceptions === undefined ? {} : { exceptions }),
  }, [...diffLogins(declaration.model, logins), ...(aws ? (await import("../audit/diff-aws.ts")).diffAws(declaration.model, aws.state) : [])]);
  const tool = packageFacts();
  const evidence = {
    at: read.state.snapshotAt,
    ...server,
    declaration: await declarationEvidence(shown, absolute, bytes, cwd),
    toolkit: { name: tool.name, version: tool.version },
    engine: { pulumi: tool.pulumi, node: process.version },
  };
  return withEvidence({ ...result, stats: { queries: read.queries, durationMs: read.durationMs, ...(aws ? { awsCalls: aws.calls } : {}) } }, evidence);
}

/** The exceptions file, or exit 2 naming the file, line and key of the first problem. */
async function readExceptions(file: string, cwd: string): Promise<ExceptionsFile> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), "utf8");
  } catch (error) {
    throw new ExitError(`cannot read exceptions file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, Exit.Usage);
  }
  const parsed = parseExceptions(text, file);
  if ("errors" in parsed) {
    const more = parsed.errors.length - 1;
    throw new ExitError(`${parsed.errors[0]}${more > 0 ? ` (and ${more} more problem${more === 1 ? "" : "s"})` : ""}; nothing was audited`, Exit.Usage);
  }
  return parsed;
}

/** Logs in as each applied workspace's app role with its derived password, four at a time. */
async function probeLogins(stack: StackConfig, connection: Connection): Promise<LoginProbed[]> {
  const target = { host: String(connection.host), port: Number(connection.port), database: String(connection.database) };
  const queue = [...stack.appLogins];
  const probed: LoginProbed[] = [];
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      probed.push({ workspace: next.workspace, appRole: next.appRole, result: await probeLogin(target, next.appRole, await next.password()) });
    }
  }));
  return probed.sort((a, b) => a.workspace.localeCompare(b.workspace));
}

// Imported only with AWS: the SDK's clients take over a second to load, which every audit paid.
async function readAwsOrExit(organization: string, region: string | undefined) {
  const { awsClientsFromEnvironment, readAws } = await import("../audit/read-aws.ts");
  try {
    return await readAws(awsClientsFromEnvironment(region), organization);
  } catch (error) {
    throw new ExitError(`reading AWS failed: ${oneLine(error)}`, Exit.Usage);
  }
}

/** Connects, runs `fn`, disconnects; any failure becomes one line (never the password). */
export async function withConnection<T>(connection: Connection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  let limits: ReturnType<typeof sessionParameters>;
  try {
    limits = sessionParameters();
  } catch (error) {
    throw new ExitError(oneLine(error), Exit.Usage);
  }
  // The same bounds as the provider's sessions: an audit never waits forever either.
  const client = new pg.Client({ ...limits, ...connection, application_name: "tenancy-audit", connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new ExitError(`cannot connect to PostgreSQL at ${describe(connection)}: ${oneLine(error)}`, Exit.Usage);
  }
  try {
    return await fn(client);
  } catch (error) {
    if (error instanceof ExitError) throw error;
    throw new ExitError(`reading PostgreSQL at ${describe(connection)} failed: ${oneLine(error)}`, Exit.Usage);
  } finally {
    await client.end().catch(() => {});
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}

/** host:port/database as user, from settings or a URL with any password removed. */
function describe(c: Connection): string {
  if (c.connectionString) {
    try {
      const url = new URL(c.connectionString);
      return `${url.hostname || "localhost"}:${url.port || 5432}${url.pathname} as ${decodeURIComponent(url.username) || "(default user)"}`;
    } catch {
      return "(the given --database-url)";
    }
  }
  return `${c.host}:${c.port}/${c.database} as ${c.user}`;
}

async function declarationPath(arg: string, cwd: string): Promise<{ shown: string; absolute: string }> {
  const absolute = resolve(cwd, arg);
  try {
    if ((await stat(absolute)).isDirectory()) {
      await stat(join(absolute, "tenancy.yaml"));
      return { shown: join(arg, "tenancy.yaml"), absolute: join(absolute, "tenancy.yaml") };
    }
    return { shown: arg, absolute };
  } catch (error) {
    throw new ExitError(`cannot read ${arg}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, Exit.Usage);
  }
}

/**
 * The connection and declaration the stack program uses (index.ts): postgres:host/port/user/
 * database with the same defaults, the secret postgres:password decrypted by the Automation API
 * in this process, and tenancy:declaration or stacks/<stack>/tenancy.yaml.
 */
interface StackConfig {
  readonly connection: Connection;
  readonly declaration: string;
  readonly aws: boolean;
  readonly awsRegion?: string;
  /** The applied workspaces (stack outputs) and how to derive each app password (never kept). */
  readonly appLogins: readonly { readonly workspace: string; readonly appRole: string; password(): Promise<string> }[];
}

async function readStackConfig(stackName: string, cwd: string): Promise<StackConfig> {
  const { openStack, postgresFromConfig } = await import("./engine.ts");
  let config: Record<string, { value: string; secret?: boolean }>;
  let outputs: Record<string, { value: unknown }>;
  try {
    // A team's own backend (PULUMI_BACKEND_URL) wins over the local demo's.
    const backendUrl = process.env.PULUMI_BACKEND_URL;
    const { stack } = await openStack({ root: cwd, stack: stackName, ...(backendUrl ? { backendUrl } : {}) });
    [config, outputs] = await Promise.all([stack.getAllConfig(), stack.outputs()]);
  } catch (error) {
    if (error instanceof ExitError) throw error; // already one line (a stack without a passphrase)
    throw new ExitError(`cannot read the config of stack "${stackName}": ${oneLine(error)}`, Exit.Usage);
  }
  const get = (key: string) => config[key]?.value;
  const password = get("postgres:password");
  if (password === undefined) throw new ExitError(`stack "${stackName}" has no postgres:password; set it with \`pulumi config set --secret postgres:password\``, Exit.Usage);
  const file = get("tenancy:declaration");
  const awsConfig = get("tenancy:aws");
  const aws = awsConfig !== undefined && (JSON.parse(awsConfig) as { enabled?: boolean }).enabled === true;
  const awsRegion = get("aws:region");
  // What `tenancy credentials` derives: nothing to probe before the first apply or without a key.
  const master = get("tenancy:credentialsMasterKey");
  const organization = outputs.organization?.value;
  const applied = (outputs.workspaces?.value ?? {}) as Record<string, { appRole?: string; keyGeneration?: string }>;
  const appLogins = master === undefined || typeof organization !== "string" ? [] : Object.entries(applied)
    .filter(([, w]) => typeof w?.appRole === "string")
    .map(([workspace, w]) => ({ workspace, appRole: w.appRole!, password: () => deriveAppPassword(master, organization, workspace, w.keyGeneration ?? "1") }));
  return {
    appLogins,
    aws,
    ...(awsRegion === undefined ? {} : { awsRegion }),
    connection: { ...postgresFromConfig(get), password },
    declaration: file === undefined ? join("stacks", stackName, "tenancy.yaml") : relative(cwd, resolve(cwd, file)) || file,
  };
}
