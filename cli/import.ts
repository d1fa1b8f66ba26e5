// `tenancy import --database-url <url> --organization <slug>`: a declaration written from live
// state (the control plane, read in one read-only snapshot), for adopting an existing platform.
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { importDeclaration, type ImportResult } from "../audit/import.ts";
import { readPostgres } from "../audit/read-postgres.ts";
import { ORG_SLUG } from "../config/formats.ts";
import { withConnection } from "./audit.ts";
import { Exit, ExitError } from "./errors.ts";

export interface ImportOptions {
  /** `postgres://user@host:port/database`; the password from PGPASSWORD or ~/.pgpass. */
  readonly databaseUrl: string;
  readonly organization: string;
  /** Write here instead of returning only; refuses to overwrite unless `force`. */
  readonly output?: string;
  readonly force?: boolean;
}

export async function importCommand(options: ImportOptions, cwd: string): Promise<ImportResult> {
  if (!ORG_SLUG.test(options.organization)) throw new ExitError(`--organization must match ${ORG_SLUG}; got ${JSON.stringify(options.organization)}`, Exit.Usage);
  const read = await withConnection({ connectionString: options.databaseUrl }, (client) => readPostgres(client, options.organization));
  if (read.state.controlPlane.unreadable !== undefined) throw new ExitError(`cannot import: ${read.state.controlPlane.unreadable}`, Exit.Usage);
  const source = `database ${read.state.database.name}`;
  const result = importDeclaration(read.state, source);
  if (!result) throw new ExitError(`organization ${JSON.stringify(options.organization)} has no row in tenancy_control.organizations; nothing to import`, Exit.Usage);
  if (options.output !== undefined) {
    try {
      await writeFile(resolve(cwd, options.output), result.yaml, { flag: options.force ? "w" : "wx" });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ExitError(code === "EEXIST" ? `${options.output} exists; pass --force to overwrite it` : `cannot write ${options.output}: ${code ?? String(error)}`, Exit.Usage);
    }
  }
  return result;
}
