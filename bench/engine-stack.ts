// A throwaway stack of the real program for the engine benches: a generated declaration, its own
// embedded PostgreSQL and file backend in a temporary folder, demo secrets; removed afterwards
// (destroy is refused, since workspaces are protected: the stack and its state are dropped).
import { chmod, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { configurePostgres, ensureDemoSecrets, openStack } from "../cli/engine.ts";
import { freePort } from "../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../cli/local/postgres.ts";
import type { TenancyModel } from "../config/model.ts";
import { loadDeclaration } from "../config/load.ts";
import { generateDeclaration, type GenerateOptions } from "./generate.ts";

const root = join(import.meta.dirname, "..");

export interface BenchStack {
  readonly dir: string;
  readonly stack: Stack;
  readonly server: LocalPostgres;
  /** The generated declaration (its file, text and model). */
  readonly file: string;
  readonly text: string;
  readonly model: TenancyModel;
}

export async function withBenchStack<T>(name: string, declaration: GenerateOptions, log: (line: string) => void, body: (s: BenchStack) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `tenancy-${name}-`));
  await chmod(dir, 0o755); // the server's own folder inside stays private (0700, postgres-owned)
  const port = await freePort();
  const stackName = `${name}-${process.pid}-${declaration.workspaces}`;
  let stack: Stack | undefined;
  try {
    const text = generateDeclaration(declaration);
    const file = join(dir, "tenancy.yaml");
    await writeFile(file, text);
    const loaded = loadDeclaration(text, file);
    if (!loaded.ok || !loaded.model) throw new Error("bench: the generated declaration must load");
    const server = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
    stack = (await openStack({ root, stack: stackName, backendUrl: `file://${dir}`, demo: true })).stack; // a throwaway stack
    await configurePostgres(stack, server);
    await stack.setConfig("tenancy:declaration", { value: file });
    await ensureDemoSecrets(stack, loaded.model);
    return await body({ dir, stack, server, file, text, model: loaded.model });
  } finally {
    await stack?.workspace.removeStack(stackName, { force: true }).catch((e: unknown) => log(`bench: removing stack ${stackName}: ${String(e)}`));
    await unlink(join(root, "stacks", `Pulumi.${stackName}.yaml`)).catch(() => {});
    await stopLocalPostgres({ root: dir, port }).catch((e: unknown) => log(`bench: stopping PostgreSQL: ${String(e)}`));
    await rm(dir, { recursive: true, force: true });
  }
}
