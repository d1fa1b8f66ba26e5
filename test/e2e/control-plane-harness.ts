// Real engine, real PostgreSQL, for the control-plane records: a throwaway embedded server on a
// free port, a file backend, and an INLINE Automation API program that declares the records of
// whatever model the test sets (the program runs in this process on every up/preview, while the
// records are served by the tenancy provider plugin, provider/).
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type EngineEvent, type ProjectSettings, type Stack } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import * as semver from "semver";
import { ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import type { TenancyModel } from "../../config/model.ts";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../../components/control-plane/args.ts";
import { migrationInputs } from "../../components/control-plane/migrations.ts";
import { CONTROL_SCHEMA } from "../../components/naming.ts";
import { ControlPlane, OrganizationRecord, TenancyProvider, WorkspaceRecord, type PgConnectionInput } from "../../components/resources.ts";
import { checkDeclaration } from "../../policies/declaration.ts";
import { resolveToolchain } from "../../scripts/toolchain/resolve.mjs";
import { freePort } from "../../cli/local/net.ts";

const root = join(import.meta.dirname, "../..");

/** The records of one model, wired in dependency order (schema, organization, workspace with its members). */
export function declareControlPlane(model: TenancyModel, connection: PgConnectionInput & { database: string }): void {
  const slug = model.organization!.slug;
  // Records need no master key: nothing is derived from it here.
  const provider = new TenancyProvider("postgres", connection, "");
  const schema = new ControlPlane("control-plane", { schema: CONTROL_SCHEMA, database: connection.database, migrations: migrationInputs() }, { provider });
  const org = new OrganizationRecord(`${slug}-record`, organizationRecordArgs(model), { provider, dependsOn: [schema] });
  for (const ws of model.workspaces) {
    new WorkspaceRecord(`${slug}-${ws.slug}-record`, { ...workspaceRecordArgs(model, ws), members: workspaceMembersArgs(model, ws).members }, { provider, dependsOn: [org] });
  }
}

/** A valid model from declaration text; throws with every violation otherwise. */
export function modelOf(yaml: string): TenancyModel {
  const report = checkDeclaration(yaml, "tenancy.yaml");
  if (!report.model) throw new Error(report.violations.map((v) => `${v.line}:${v.column} ${v.rule} ${v.message}`).join("\n"));
  return report.model;
}

export interface PlannedStep {
  readonly op: string;
  readonly type: string;
  readonly name: string;
  readonly oldInputs?: Record<string, unknown>;
  readonly newInputs?: Record<string, unknown>;
}

export interface ControlPlaneHarness {
  readonly stack: Stack;
  readonly server: LocalPostgres;
  /** The model the next up/preview declares. */
  model: TenancyModel;
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The checkpoint as the file backend stores it (secrets encrypted; `exportStack` decrypts them). */
  storedState(): Promise<string>;
  /** A preview: its non-`same` steps (engine events) and the `--diff` text the CLI prints. */
  preview(): Promise<{ steps: PlannedStep[]; diff: string }>;
  dispose(): Promise<void>;
}

export async function createControlPlaneHarness(name: string, model: TenancyModel): Promise<ControlPlaneHarness> {
  const dir = await mkdtemp(join(tmpdir(), `tenancy-e2e-${name}-`));
  await chmod(dir, 0o755); // the server's own data folder inside stays private
  const port = await freePort();
  const server = await ensureLocalPostgres({ root: dir, port });
  const toolchain = await resolveToolchain({ log: () => {} });
  const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(toolchain.pulumiBin)), version: semver.parse(toolchain.versions.pulumi)! });
  const connection = { host: server.host, port: server.port, user: server.user, database: server.database, password: pulumi.secret(server.password) };
  const harness = { model } as ControlPlaneHarness;
  const stackName = `e2e-${name}-${process.pid}`;
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName: "control-plane-e2e", program: async () => declareControlPlane(harness.model, connection) },
    {
      pulumiCommand,
      // `plugins` is written to the project file as given; the SDK's type does not list it yet.
      projectSettings: { name: "control-plane-e2e", runtime: "nodejs", plugins: { providers: [{ name: "tenancy", path: join(root, "provider") }] } } as ProjectSettings,
      envVars: { ...toolchain.env, PULUMI_BACKEND_URL: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: "e2e-only" },
    },
  );
  const client = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
  await client.connect();

  return Object.assign(harness, {
    stack,
    server,
    query: async <T extends pg.QueryResultRow>(sql: string, params?: unknown[]) => (await client.query<T>(sql, params)).rows,
    storedState: () => readFile(join(dir, ".pulumi", "stacks", "control-plane-e2e", `${stackName}.json`), "utf8"),
    async preview() {
      const steps: PlannedStep[] = [];
      let diff = "";
      await stack.preview({
        diff: true,
        onOutput: (out: string) => { diff += out; },
        onEvent: (event: EngineEvent) => {
          const step = event.resourcePreEvent?.metadata;
          if (!step || step.op === "same") return;
          steps.push({ op: step.op, type: step.type, name: step.urn.split("::").pop()!, oldInputs: step.old?.inputs, newInputs: step.new?.inputs });
        },
      });
      return { steps: steps.sort((a, b) => a.name.localeCompare(b.name)), diff };
    },
    async dispose() {
      await client.end();
      await stack.workspace.removeStack(stackName, { force: true }).catch(() => {});
      await stopLocalPostgres({ root: dir, port });
      await rm(dir, { recursive: true, force: true });
    },
  });
}
