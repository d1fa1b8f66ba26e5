// The command line, declared in one place. Commands return data; printing, formats and exit
// codes happen here, at the edge.
import { writeFile } from "node:fs/promises";
import { Command, CommanderError, Option } from "commander";
import { escapeText } from "../components/escape.ts";
import { Exit, ExitError } from "./errors.ts";

export interface Io {
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

interface PlanCliOptions {
  base?: string;
  head?: string;
  baseRef?: string;
  stack?: string;
  format: "text" | "markdown" | "json";
  acknowledge: string[];
  maxRemovalShare?: number;
  minAdmins?: number;
  maxChars?: number;
  out?: string;
  engine: boolean;
  acknowledgedBy?: string;
  ttl?: string;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let exitCode: number = Exit.Ok;
  const program = new Command("tenancy")
    .description("Declare a multi-workspace SaaS tenancy as code: validate, plan, apply, audit.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  program
    .command("validate")
    .description("Check declarations against the schema and every rule; report all violations at once.")
    .argument("<files...>", "declaration files (stacks/<stack>/tenancy.yaml) or stack directories")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (files: string[], options: { format: "text" | "json" }) => {
      // Every command loads its modules when it runs, so `tenancy --help` loads only commander.
      const { formatJson, formatText, validate } = await import("./validate.ts");
      const result = await validate({ files }, io.cwd);
      io.stdout.write(options.format === "json" ? formatJson(result) : formatText(result));
      exitCode = result.valid ? Exit.Ok : Exit.Violations;
    });

  program
    .command("plan")
    .description("Show what a change to stack declarations does, most dangerous first, and check every rule (change rules included).")
    .option("--base <side>", "the declaration before: file, stack directory or REF:path (missing: a new stack)")
    .option("--head <side>", "the declaration after: file, stack directory or REF:path (missing: the stack is removed)")
    .option("--base-ref <ref>", "compare every stacks/*/tenancy.yaml at this git ref with the work tree")
    .option("--stack <name>", "stack name (default: from a stacks/<name>/ path)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json"]).default("text"))
    .option("--acknowledge <rule-id:workspace>", "acknowledge one guard's findings about one workspace for this change (repeatable); a bare rule-id covers all its findings, organization-level ones included; recorded in the plan file and checked again by apply", (v: string, all: string[]) => [...all, v], [] as string[])
    .option("--acknowledged-by <who>", "with --out: who acknowledged (recorded in the plan file)")
    .option("--max-removal-share <share>", "mass-removal-guarded: largest share (0..1) of members or people one change may remove (default 0.25)", Number)
    .option("--min-admins <n>", "admin-removal-guarded: admins a workspace losing admins must keep (default 1)", Number)
    .option("--max-chars <n>", "markdown: longest output (default 65536, GitHub's comment limit)", Number)
    .option("--out <file>", "write a plan file for `tenancy apply --plan`: binds commits, code, declarations, stack config, versions and (with --engine) the stack and its state")
    .option("--engine", "with --out: also save the Pulumi update plan (pulumi preview --save-plan, policy pack on); apply requires it", false)
    .option("--ttl <duration>", "with --out: how long the plan may wait for its apply (90m, 12h, 7d; default 7d)")
    .action(async (options: PlanCliOptions) => {
      if (options.maxChars !== undefined && !(Number.isSafeInteger(options.maxChars) && options.maxChars >= 1000)) {
        throw new ExitError(`--max-chars must be a whole number >= 1000; got ${String(options.maxChars)}`, Exit.Usage);
      }
      const { plan, formatJson } = await import("./plan.ts");
      const { report } = await plan(options, io.cwd, (line) => io.stderr.write(`${line}\n`));
      if (options.format === "json") io.stdout.write(formatJson(report));
      else if (options.format === "markdown") {
        const { formatMarkdown } = await import("./plan-markdown.ts");
        io.stdout.write(formatMarkdown(report, options.maxChars !== undefined ? { maxChars: options.maxChars } : {}));
      } else io.stdout.write((await import("./plan-text.ts")).formatText(report));
      exitCode = report.ok ? Exit.Ok : Exit.Violations;
    });

  program
    .command("apply")
    .description("Apply a reviewed plan file (made with --engine); refuse (exit 1, one line per failed check, nothing applied) if it expired, anything it binds changed, the rules fail again, or the stack is foreign or moved since planning.")
    .requiredOption("--plan <file>", "the plan file written by `tenancy plan --out`")
    .action(async (options: { plan: string }) => {
      const { apply } = await import("./apply.ts");
      const applied = await apply(options, io.cwd, (line) => io.stderr.write(`${line}\n`));
      for (const a of applied) {
        const changes = Object.entries(a.changes).map(([op, n]) => `${n} ${op}`).join(", ") || "none";
        io.stdout.write(`applied ${escapeText(a.stack)}: ${changes}${a.checkpointsSkipped ? " (creates only: checkpoints skipped)" : ""}${a.heldToUpdatePlan ? " (held to the reviewed update plan)" : ""}\n`);
      }
    });

  program
    .command("demo")
    .description("Provision a stack into the embedded PostgreSQL with the real Pulumi engine (npm run demo).")
    .option("--stack <stack>", "stack under stacks/", "dev")
    .option("--destroy", "tear the stack down and stop the embedded PostgreSQL", false)
    .option("--port <port>", "embedded PostgreSQL port (default: TENANCY_PG_PORT or 54329)", (v) => Number(v))
    .action(async (options: { stack: string; destroy: boolean; port?: number }) => {
      // Loaded on demand: @pulumi/pulumi is heavy, and on import it takes over process exit
      // handling, which `validate` must not pay for or be affected by.
      const { demo, formatDemo } = await import("./demo.ts");
      const result = await demo(options, io.cwd, (line) => io.stderr.write(`${line}\n`));
      io.stdout.write(formatDemo(result));
    });

  program
    .command("audit")
    .description("Compare the declared tenancy with live PostgreSQL, read-only, in one snapshot. Exit 0 clean, 1 findings, 2 error.")
    .option("--declaration <file|dir>", "declaration file or stack directory (default with --stack: the stack's)")
    .option("--database-url <url>", "postgres://user@host:port/database; the password from PGPASSWORD or ~/.pgpass, not the URL")
    .option("--stack <name>", "read the connection from this stack's config, as the stack program does, and log in once as each workspace's app role with its derived password")
    .addOption(new Option("--format <format>", "output format (html: a self-contained page with the access matrix)").choices(["text", "markdown", "json", "sarif", "html"]).default("text"))
    .addOption(new Option("--fail-on <level>", "exit 1 on findings of this level or above (error: boundary and rule; warning: also missing, unexpected, changed)").choices(["error", "warning"]).default("warning"))
    .option("--exceptions <file>", "accepted findings (YAML: rule, object, reason, who, expires); matched ones do not fail, expired ones are findings")
    .option("--verbose", "print the number of queries and the time taken", false)
    .option("--pending-invitation-days <days>", "report invitations pending longer than this", (v) => Number(v))
    .option("--admin-role <role>", "the role that manages the tenancy (default: the database's owner)")
    .option("--aws", "also audit KMS keys, Secrets Manager secrets (metadata only) and IAM policies (default with --stack: the stack's tenancy:aws)")
    .option("--also <format=file...>", "also write the same audit (one snapshot) in another format to a file, e.g. --also markdown=audit.md sarif=audit.sarif")
    .action(async (options: { declaration?: string; databaseUrl?: string; stack?: string; format: "text" | "markdown" | "json" | "sarif" | "html"; failOn: "error" | "warning"; exceptions?: string; verbose: boolean; pendingInvitationDays?: number; adminRole?: string; aws?: boolean; also?: string[] }) => {
      const { audit, failingFindings, parseAlso } = await import("./audit.ts");
      const { formatAudit } = await import("../audit/output.ts");
      // Parsed before the audit runs: a typo fails in one line without touching the database.
      const also = parseAlso(options.also ?? [], io.cwd);
      const result = await audit(options, io.cwd);
      const formatOptions = { verbose: options.verbose, ...(options.stack === undefined ? {} : { stack: options.stack }) };
      for (const { format, file } of also) await writeFile(file, formatAudit(result, format, formatOptions));
      io.stdout.write(formatAudit(result, options.format, formatOptions));
      exitCode = failingFindings(result, options.failOn).length === 0 ? Exit.Ok : Exit.Violations;
    });

  program
    .command("credentials")
    .description("What the SaaS connects with, per workspace: app role, password and credentials data key, derived from the stack's master key.")
    .requiredOption("--stack <name>", "the stack (its config holds the master key, its outputs the workspaces)")
    .option("--workspace <slug...>", "only these workspaces")
    .addOption(new Option("--format <format>", "output format").choices(["json", "env"]).default("json"))
    .option("--show-secrets", "print the passwords and keys (otherwise \"[secret]\")", false)
    .action(async (options: { stack: string; workspace?: string[]; format: "json" | "env"; showSecrets: boolean }) => {
      const { credentials, formatCredentials } = await import("./credentials.ts");
      io.stdout.write(formatCredentials(await credentials(options, io.cwd), options.format));
    });

  program
    .command("import")
    .description("Write a declaration from an existing tenancy's live state (read-only), to adopt it.")
    .requiredOption("--database-url <url>", "postgres://user@host:port/database; the password from PGPASSWORD or ~/.pgpass")
    .requiredOption("--organization <slug>", "the organization to import")
    .option("--output <file>", "write the declaration to this file instead of stdout")
    .option("--force", "overwrite --output if it exists", false)
    .action(async (options: { databaseUrl: string; organization: string; output?: string; force: boolean }) => {
      const { importCommand } = await import("./import.ts");
      const result = await importCommand(options, io.cwd);
      if (options.output === undefined) io.stdout.write(result.yaml);
      for (const note of result.notes) io.stderr.write(`tenancy: note: ${note}\n`);
      if (options.output !== undefined) io.stderr.write(`tenancy: wrote ${options.output} (${result.model.workspaces.length} workspaces); check it with \`tenancy validate ${options.output}\`\n`);
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? Exit.Ok : Exit.Usage;
    }
    if (error instanceof ExitError) {
      // Messages quote names through components/escape.ts; escaping each line again here costs
      // nothing (escaped text has nothing left to escape) and catches a message that forgot.
      for (const line of error.message.split("\n")) io.stderr.write(`tenancy: ${escapeText(line)}\n`);
      return error.exitCode;
    }
    // A bug, not the user's mistake: one line, never a stack trace or a secret on the way out.
    if (process.env.TENANCY_DEBUG) throw error;
    const { redact } = await import("./engine-errors.ts");
    const first = (error instanceof Error ? error.message : String(error)).split("\n").find((l) => l.trim() !== "") ?? "unknown error";
    io.stderr.write(`tenancy: unexpected error: ${escapeText(redact(first.trim(), []))} (a bug; TENANCY_DEBUG=1 shows the stack)\n`);
    return Exit.Internal;
  }
}
