// The command line, declared in one place. Commands return data; printing, formats and exit
// codes happen here, at the edge.
import { Command, CommanderError, Option } from "commander";
import { Exit, ExitError } from "./errors.ts";
import { formatJson, formatText, validate } from "./validate.ts";

export interface Io {
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
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
      const result = await validate({ files }, io.cwd);
      io.stdout.write(options.format === "json" ? formatJson(result) : formatText(result));
      exitCode = result.valid ? Exit.Ok : Exit.Violations;
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
    .option("--stack <name>", "read the connection from this stack's config, as the stack program does")
    .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json", "sarif"]).default("text"))
    .option("--verbose", "print the number of queries and the time taken", false)
    .option("--pending-invitation-days <days>", "report invitations pending longer than this", (v) => Number(v))
    .option("--admin-role <role>", "the role that manages the tenancy (default: the database's owner)")
    .option("--aws", "also audit KMS keys, Secrets Manager secrets (metadata only) and IAM policies (default with --stack: the stack's tenancy:aws)")
    .action(async (options: { declaration?: string; databaseUrl?: string; stack?: string; format: "text" | "markdown" | "json" | "sarif"; verbose: boolean; pendingInvitationDays?: number; adminRole?: string; aws?: boolean }) => {
      const { audit } = await import("./audit.ts");
      const { formatAudit } = await import("../audit/output.ts");
      const result = await audit(options, io.cwd);
      io.stdout.write(formatAudit(result, options.format, { verbose: options.verbose }));
      exitCode = result.clean ? Exit.Ok : Exit.Violations;
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
      io.stderr.write(`tenancy: ${error.message}\n`);
      return error.exitCode;
    }
    // A bug, not the user's mistake: one line, never a stack trace or a secret on the way out.
    if (process.env.TENANCY_DEBUG) throw error;
    const { redact } = await import("./engine-errors.ts");
    const first = (error instanceof Error ? error.message : String(error)).split("\n").find((l) => l.trim() !== "") ?? "unknown error";
    io.stderr.write(`tenancy: unexpected error: ${redact(first.trim(), [])} (a bug; TENANCY_DEBUG=1 shows the stack)\n`);
    return Exit.Internal;
  }
}
