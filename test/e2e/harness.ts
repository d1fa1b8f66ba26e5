// Real engine, real PostgreSQL: a throwaway stack, state backend and embedded server per test
// file, so e2e runs never touch the demo's .tenancy/ or each other.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import { configurePostgres, ensureDemoSecrets, openStack } from "../../cli/engine.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { loadDeclaration } from "../../config/load.ts";
import { freePort } from "../../cli/local/net.ts";

export const root = join(import.meta.dirname, "../..");

export interface Harness {
  readonly stack: Stack;
  /** The environment the engine runs with (PATH, PULUMI_HOME, ...). */
  readonly engineEnv: Record<string, string>;
  readonly server: LocalPostgres;
  readonly declaration: string;
  writeDeclaration(text: string): Promise<void>;
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Planned operations of a preview, as "op type name" lines (same excluded), sorted. */
  plannedChanges(): Promise<string[]>;
  /** "type name" of every resource in the stack's state, sorted. */
  resources(): Promise<string[]>;
  dispose(): Promise<void>;
}

/** `projectRoot`: the Pulumi project to run (default this checkout; a throwaway git clone for tests that commit). */
export async function createHarness(name: string, declaration: string, projectRoot = root): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), `tenancy-e2e-${name}-`));
  await chmod(dir, 0o755); // the server's own folder inside stays private (0700, postgres-owned)
  const file = join(dir, "tenancy.yaml");
  await writeFile(file, declaration);
  const port = await freePort();
  // Like the demo: the toolkit runs as a CREATEROLE admin that owns its database, not as superuser.
  const server = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
  const stackName = `e2e-${name}-${process.pid}`;
  const { stack, toolchain } = await openStack({ root: projectRoot, stack: stackName, backendUrl: `file://${dir}` });
  await configurePostgres(stack, server);
  await stack.setConfig("tenancy:declaration", { value: file });
  const loaded = loadDeclaration(declaration, file);
  if (!loaded.ok || !loaded.model) throw new Error("e2e: the declaration must load");
  await ensureDemoSecrets(stack, loaded.model);
  const client = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
  await client.connect();
  // A test may stop the server under this client; that is not an error of the test run.
  client.on("error", () => {});

  return {
    stack,
    engineEnv: toolchain.env,
    server,
    declaration: file,
    writeDeclaration: (text) => writeFile(file, text),
    query: async (sql, params) => (await client.query(sql, params)).rows,
    async plannedChanges() {
      const planned: string[] = [];
      await stack.preview({
        onEvent: (event: EngineEvent) => {
          const step = event.resourcePreEvent?.metadata;
          if (step && step.op !== "same") planned.push(`${step.op} ${step.type} ${step.urn.split("::").pop()}`);
        },
      });
      return planned.sort();
    },
    async resources() {
      const state = await stack.exportStack();
      const list = (state.deployment.resources ?? []) as { urn: string; type: string }[];
      return list.map((r) => `${r.type} ${r.urn.split("::").pop()}`).sort();
    },
    async dispose() {
      await client.end();
      await stack.workspace.removeStack(stackName, { force: true }).catch(() => {});
      await stopLocalPostgres({ root: dir, port });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
