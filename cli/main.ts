// The command line, declared in one place. Commands return data; printing, formats and exit
// codes happen here, at the edge.
import { Command, CommanderError, Option } from "commander";
import { Exit, ExitError } from "./errors.ts";

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
      // Every command loads its modules when it runs, so `tenancy --help` loads only commander.
      const { formatJson, formatText, validate } = await import("./validate.ts");
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
    throw error;
  }
}
