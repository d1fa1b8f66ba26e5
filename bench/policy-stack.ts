// The stack the policy-pack bench feeds the pack: a generated declaration (bench/generate.ts,
// every dimension grown with the workspaces: members, people, integrations, agents) validated
// as `tenancy validate` does, built by the real components under Pulumi mocks, each resource as
// the analyzer receives it (test/policies/pack/from-components.ts). Nothing here restates what
// a component registers. One hand-written Grant across two workspaces is added, as a program
// could write it, so each run also shows the pack still refuses it. Built in a child process (`registeredStack`), so the mocks' runtime and
// its thousands of resource objects never share a heap with the timed policies.
//   node --import tsx bench/policy-stack.ts <workspaces> <members>   prints the specs as JSON
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { checkDeclaration } from "../policies/declaration.ts";
import type { Spec } from "../test/policies/pack/harness.ts";
import { generateDeclaration, type GenerateOptions } from "./generate.ts";
import { isMain } from "./table.ts";

const root = join(fileURLToPath(import.meta.url), "../..");

/** The declaration's dimensions at `workspaces` × `members`: people, integrations and agents grow too. */
export function stackShape(workspaces: number, members: number): GenerateOptions {
  return { workspaces, membersPerWorkspace: members, people: Math.max(workspaces * 5, members), integrationsPerWorkspace: 2, agentsPerWorkspace: 2 };
}

export interface RegisteredStack {
  readonly specs: Spec[];
  readonly shape: GenerateOptions;
  /** Resources per kind (type token -> count). */
  readonly kinds: Record<string, number>;
}

/** The stack, built in a child process. */
export async function registeredStack(workspaces: number, members: number): Promise<RegisteredStack> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(root, "bench", "policy-stack.ts"), String(workspaces), String(members)], { cwd: root, maxBuffer: 1 << 30 });
  const specs = JSON.parse(stdout) as Spec[];
  const kinds: Record<string, number> = {};
  for (const s of specs) kinds[s.type] = (kinds[s.type] ?? 0) + 1;
  return { specs, shape: stackShape(workspaces, members), kinds };
}

function memoizeConfig(): void {
  const config = createRequire(import.meta.url)("@pulumi/pulumi/runtime/config") as Record<string, (key: string) => unknown>;
  for (const name of ["getConfig", "isConfigSecret"]) {
    const original = config[name]!;
    const known = new Map<string, unknown>();
    config[name] = (key: string) => (known.has(key) ? known.get(key) : known.set(key, original(key)).get(key));
  }
}

async function build(workspaces: number, members: number): Promise<Spec[]> {
  const report = checkDeclaration(generateDeclaration(stackShape(workspaces, members)), "generated.yaml");
  if (!report.model) throw new Error(`bench: the generated declaration must be valid: ${report.violations[0]?.message}`);
  // Imported here: the parent process never loads Pulumi's runtime or the mocks.
  const { componentSpecs, mocksFor } = await import("../test/policies/pack/from-components.ts");
  await mocksFor([report.model]);
  // Pulumi records a stack trace for every promise it makes (runtime/debuggable.js), which tsx's
  // source maps make the bulk of the cost; this process only builds data, nobody reads them.
  // (Only once everything is loaded: tsx needs them while it loads modules.)
  Error.stackTraceLimit = 0;
  process.setSourceMapsEnabled(false);
  // Pulumi parses the whole config anew at every read (runtime/config.js parseConfig): with two
  // secret integration tokens per workspace, quadratic. The config is set for good by now.
  memoizeConfig();
  return componentSpecs(report.model, { crossGrant: true });
}

if (isMain(import.meta.url)) {
  const [workspaces, members] = process.argv.slice(2).map(Number);
  process.stdout.write(JSON.stringify(await build(workspaces ?? 100, members ?? 10)));
}
