// Real engine, real PostgreSQL, the on-disk program of test/e2e/fixtures/isolation: a throwaway
// embedded server on a free port, a non-superuser admin role (CREATEROLE, CREATEDB, owner of the
// `app` database) made through the superuser, and a stack in a temporary project whose program
// re-exports the fixture's, so stack config and state never land in the repository.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as semver from "semver";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import { DEMO_PASSPHRASE } from "../../cli/engine.ts";
import { ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { resolveToolchain } from "../../scripts/toolchain/resolve.mjs";
import { freePort } from "../../cli/local/net.ts";

export const root = join(import.meta.dirname, "../..");
const fixture = join(import.meta.dirname, "fixtures", "isolation");

export interface Login { readonly user: string; readonly password: string; readonly database?: string }

export interface IsolationHarness {
  readonly stack: Stack;
  readonly dir: string;
  readonly server: LocalPostgres;
  /** The non-superuser admin the program connects as. */
  readonly admin: { readonly user: string; readonly password: string; readonly database: string };
  /** A query as the superuser, in the `app` database. */
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A connected client for `login` (closed by dispose if still open). */
  connect(login: Login): Promise<pg.Client>;
  dispose(): Promise<void>;
}

export async function createIsolationHarness(name: string): Promise<IsolationHarness> {
  const dir = await mkdtemp(join(tmpdir(), `tenancy-e2e-${name}-`));
  await chmod(dir, 0o755); // the server's own folder inside stays private (0700, postgres-owned)
  // The language host and the dynamic provider host resolve @pulumi/pulumi and tsx from the
  // program's folder.
  await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  // The project moves to a temporary folder: the provider plugin's path becomes absolute.
  const project = (await readFile(join(fixture, "Pulumi.yaml"), "utf8")).replace("path: ../../../../provider", `path: ${join(root, "provider")}`);
  await writeFile(join(dir, "Pulumi.yaml"), project);
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "tenancy-isolation", private: true, type: "module" }) + "\n");
  await writeFile(join(dir, "index.ts"), `export * from ${JSON.stringify(join(fixture, "index.ts"))};\n`);
  const port = await freePort();
  const server = await ensureLocalPostgres({ root: dir, port });
  const clients: pg.Client[] = [];
  const connect = async (login: Login) => {
    const client = new pg.Client({ host: server.host, port: server.port, user: login.user, password: login.password, database: login.database ?? "app" });
    await client.connect();
    clients.push(client);
    return client;
  };

  const admin = { user: "tenancy_admin", password: randomBytes(18).toString("base64url"), database: "app" };
  const superuser = await connect({ user: server.user, password: server.password, database: "postgres" });
  await superuser.query(`CREATE ROLE ${admin.user} LOGIN CREATEROLE CREATEDB PASSWORD ${superuser.escapeLiteral(admin.password)}`);
  await superuser.query(`CREATE DATABASE app OWNER ${admin.user}`);
  await superuser.end();
  const su = await connect({ user: server.user, password: server.password });

  const toolchain = await resolveToolchain();
  const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(toolchain.pulumiBin)), version: semver.parse(toolchain.versions.pulumi)! });
  const stackName = `e2e-${name}-${process.pid}`;
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, workDir: dir },
    {
      pulumiCommand,
      envVars: { ...toolchain.env, PULUMI_BACKEND_URL: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE },
    },
  );
  await stack.setAllConfig({
    "postgres:host": { value: server.host },
    "postgres:port": { value: String(server.port) },
    "postgres:user": { value: admin.user },
    "postgres:database": { value: admin.database },
    "postgres:password": { value: admin.password, secret: true },
    "tenancy:credentialsMasterKey": { value: randomBytes(32).toString("base64"), secret: true },
  });

  return {
    stack, dir, server, admin, connect,
    query: async (sql, params) => (await su.query(sql, params)).rows,
    async dispose() {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      await stack.workspace.removeStack(stackName, { force: true }).catch(() => {});
      await stopLocalPostgres({ root: dir, port });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
