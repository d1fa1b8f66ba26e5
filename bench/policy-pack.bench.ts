// How long the policy pack takes on a large stack, through @pulumi/policy's own gRPC handlers
// (deserialization, proxies, every policy) with no engine. The stack is what the real
// components register for a generated declaration of N workspaces × 10 members (people,
// integrations and agents growing with it), built under Pulumi mocks (bench/policy-stack.ts),
// each resource sent as the engine sends it: inputs with secrets signed, a component's
// registered outputs, parent, dependencies, and its provider.
// `npx tsx bench/policy-pack.bench.ts [workspaces]`
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { PACK_NAME, policies } from "../policies/pack.ts";
import { watchSecrets } from "../policies/view.ts";
import { STACK, type Spec } from "../test/policies/pack/harness.ts";
import { count, cpuMs, seconds } from "./measure.ts";
import { CROSS_GRANT } from "../test/policies/pack/from-components.ts";
import { registeredStack } from "./policy-stack.ts";
import { isMain, type BenchModule, type Row } from "./table.ts";

const require = createRequire(import.meta.url);
const server = require("@pulumi/policy/server") as {
  makeAnalyzeStackRpcFun: (...a: unknown[]) => (call: unknown, cb: (err: unknown, resp: { getDiagnosticsList(): unknown[] }) => void) => Promise<void>;
  makeAnalyzeRpcFun: (...a: unknown[]) => (call: unknown, cb: (err: unknown, resp: { getDiagnosticsList(): unknown[] }) => void) => Promise<void>;
};
const proto = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

const WORKSPACE = "tenancy:index:Workspace";
const SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

function withSecrets(props: Record<string, unknown>, paths: readonly (readonly (string | number)[])[]): Record<string, unknown> {
  const out = structuredClone(props);
  for (const path of paths) {
    let at = out as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (at[last] !== undefined) at[last] = { ...SIG, value: at[last] };
  }
  return out;
}

/** The URN of every spec, parents looked up by name (urnOf alone walks the list per level). */
function urns(specs: readonly Spec[]): Map<string, string> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out = new Map<string, string>();
  for (const s of specs) {
    const chain: string[] = [];
    for (let at: Spec | undefined = s; at; at = at.parent ? byName.get(at.parent) : undefined) if (at.type !== STACK) chain.unshift(at.type);
    out.set(s.name, `urn:pulumi:test::tenancy::${chain.join("$")}::${s.name}`);
  }
  return out;
}

/**
 * What the engine sends: one AnalyzerResource per resource (inputs with secrets signed; a
 * component's registered outputs); `analyzeStack` false: what `analyze` gets, where a
 * component arrives with no properties at all.
 */
export function toProto(specs: readonly Spec[], analyzeStack = true) {
  const urn = urns(specs);
  const byName = new Map(specs.map((s) => [s.name, s]));
  const component = (s: Spec) => /^tenancy:index:|^pulumi:pulumi:Stack$/.test(s.type);
  return specs.map((s) => {
    const r = new proto.AnalyzerResource();
    r.setType(s.type);
    r.setUrn(urn.get(s.name));
    r.setName(s.name);
    r.setProperties(Struct.fromJavaScript(!analyzeStack && component(s) ? {} : withSecrets(s.props ?? {}, s.secret ?? [])));
    const opts = new proto.AnalyzerResourceOptions();
    opts.setProtect(s.protect ?? false);
    if (s.parent) opts.setParent(urn.get(s.parent));
    r.setOptions(opts);
    if (s.parent) r.setParent(urn.get(s.parent));
    r.setDependenciesList((s.dependsOn ?? []).map((n) => urn.get(n)!));
    for (const [prop, names] of Object.entries(s.deps ?? {})) {
      const deps = new proto.AnalyzerPropertyDependencies();
      deps.setUrnsList(names.map((n) => urn.get(n)!));
      r.getPropertydependenciesMap().set(prop, deps);
    }
    const p = s.provider ? byName.get(s.provider) : undefined;
    if (p) {
      const provider = new proto.AnalyzerProviderResource();
      provider.setType(p.type); provider.setUrn(urn.get(p.name)); provider.setName(p.name);
      provider.setProperties(Struct.fromJavaScript(withSecrets(p.props ?? {}, p.secret ?? [])));
      r.setProvider(provider);
    }
    return r;
  });
}

interface Diagnostic { getPolicyname(): string; getUrn(): string; getMessage(): string }

/** The diagnostics of one request, as "policy: message" (analyze answers carry no URN). */
async function call(fn: ReturnType<typeof server.makeAnalyzeStackRpcFun>, request: unknown): Promise<string[]> {
  return new Promise((resolve, reject) => fn({ request }, (err, resp) => (err ? reject(err) : resolve((resp.getDiagnosticsList() as Diagnostic[]).map((d) => `${d.getPolicyname()}: ${d.getMessage().split("\n").pop()}`)))));
}

/** What every run must report: the stack's one planted mistake, the hand-written cross-workspace grant. */
const EXPECTED = new RegExp(`^grant-within-workspace: Grant "${CROSS_GRANT}" gives role "acme__ws_\\d+__app" of workspace "acme__ws_\\d+" access to schema "acme__ws_0"`);

/** Timing of one phase: wall milliseconds and this process's CPU milliseconds over the same span. */
export interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export interface PackFigures {
  readonly workspaces: number;
  readonly members: number;
  readonly people: number;
  readonly resources: number;
  /** Resources per workspace: everything under a Workspace, the Workspace included. */
  readonly perWorkspace: number;
  /** Resource count per type token. */
  readonly kinds: Readonly<Record<string, number>>;
  /** A no-op stack policy on a fresh request: what @pulumi/policy's deserialization alone costs. */
  readonly noop: Timing;
  /** analyzeStack with every stack policy: fastest wall and least CPU of `runs`. */
  readonly stack: Timing;
  /** analyze (resource policies) over every resource: fastest wall and least CPU of `runs`. */
  readonly resource: Timing;
  /** "policy urn-name" of each finding of the last run (must be EXPECTED). */
  readonly findings: readonly string[];
  readonly stackPolicies: number;
}

/** A request as the analyzer's gRPC server hands it over: decoded from the wire. */
function decoded<T extends { serializeBinary(): Uint8Array }>(message: T, type: { deserializeBinary(bytes: Uint8Array): T }): T {
  return type.deserializeBinary(message.serializeBinary());
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T } & Timing> {
  const [wall, cpu] = [performance.now(), cpuMs()];
  const value = await fn();
  return { value, wallMs: performance.now() - wall, cpuMs: cpuMs() - cpu };
}

/** Fastest wall and least CPU of the runs, each on its own: other work on the machine only ever adds to either. */
const least = (a: Timing, b: Timing): Timing => ({ wallMs: Math.min(a.wallMs, b.wallMs), cpuMs: Math.min(a.cpuMs, b.cpuMs) });

export async function measurePack(workspaces: number, runs = 3, log: (line: string) => void = () => {}, members = 10): Promise<PackFigures> {
  watchSecrets();
  const built = await timed(() => registeredStack(workspaces, members));
  const { specs, kinds, shape } = built.value;
  const byName = new Map(specs.map((s) => [s.name, s]));
  const inWorkspace = (s: Spec | undefined): boolean => s !== undefined && (s.type === WORKSPACE || inWorkspace(s.parent ? byName.get(s.parent) : undefined));
  const perWorkspace = specs.filter(inWorkspace).length / workspaces;
  log(`policy pack: ${workspaces} workspaces × ${members} members, ${shape.people} people, ${shape.integrationsPerWorkspace} integrations and ${shape.agentsPerWorkspace} agents each: ${specs.length} resources (${Object.entries(kinds).map(([t, n]) => `${t.split(":").pop()} ${n}`).join(", ")}); built by the components under mocks in ${seconds(built.wallMs)}`);
  const stackRequest = () => {
    const request = new proto.AnalyzeStackRequest();
    request.setResourcesList(toProto(specs));
    return decoded(request, proto.AnalyzeStackRequest);
  };
  const resourceRequests = () => toProto(specs, false).map((r) => {
    const request = new proto.AnalyzeRequest();
    request.setType(r.getType()); request.setUrn(r.getUrn()); request.setName(r.getName());
    request.setProperties(r.getProperties()); request.setOptions(r.getOptions());
    if (r.getProvider()) request.setProvider(r.getProvider());
    return decoded(request, proto.AnalyzeRequest);
  });
  const noopFn = server.makeAnalyzeStackRpcFun(PACK_NAME, "0.1.0", "mandatory", [{ name: "noop", description: "Checks that nothing.", validateStack: () => {} }]);
  const baseline = stackRequest();
  const noop = await timed(() => call(noopFn, baseline));
  const analyzeStack = server.makeAnalyzeStackRpcFun(PACK_NAME, "0.1.0", "mandatory", policies);
  const analyze = server.makeAnalyzeRpcFun(PACK_NAME, "0.1.0", "mandatory", policies);
  let stack: Timing = { wallMs: Infinity, cpuMs: Infinity };
  let resource: Timing = { wallMs: Infinity, cpuMs: Infinity };
  let findings: string[] = [];
  for (let run = 1; run <= runs; run++) {
    // New requests per run, as the engine sends: nothing carries over between runs.
    const request = stackRequest();
    const requests = resourceRequests();
    const s = await timed(() => call(analyzeStack, request));
    const r = await timed(async () => {
      const found: string[] = [];
      for (const one of requests) found.push(...(await call(analyze, one)));
      return found;
    });
    stack = least(stack, s);
    resource = least(resource, r);
    findings = [...s.value, ...r.value].sort();
    log(`policy pack: run ${run}: analyzeStack ${seconds(s.wallMs)} (CPU ${seconds(s.cpuMs)}), analyze ${seconds(r.wallMs)} (CPU ${seconds(r.cpuMs)}), findings: ${findings.join(", ") || "none"}`);
    if (findings.length !== 1 || !EXPECTED.test(findings[0]!)) throw new Error(`policy pack bench: expected exactly one finding matching ${EXPECTED}; got ${findings.join("; ") || "nothing"}`);
  }
  return {
    workspaces, members, people: shape.people ?? 0, resources: specs.length, perWorkspace, kinds,
    noop, stack, resource, findings, stackPolicies: policies.filter((p) => "validateStack" in p).length,
  };
}

const both = (t: Timing) => `${seconds(t.wallMs)} (CPU ${seconds(t.cpuMs)})`;

export const bench: BenchModule = {
  name: "policy-pack",
  description: "the policy pack through @pulumi/policy's own handlers, on what the components register for 100 and 1,000 workspaces × 10 members",
  async run({ log }) {
    const rows: Row[] = [];
    for (const workspaces of [100, 1_000]) {
      const f = await measurePack(workspaces, 3, log);
      const total = f.stack.wallMs + f.resource.wallMs;
      const cpu = f.stack.cpuMs + f.resource.cpuMs;
      const target = workspaces === 1_000 ? `; target < 3 s: ${total < 3000 ? "met" : cpu < 3000 ? "MISSED on wall time, met on CPU (the machine was loaded)" : "MISSED"}` : "";
      rows.push({
        area: "policy pack",
        measure: `${count(workspaces)} workspaces × ${f.members} members, ${count(f.people)} people (${count(f.resources)} resources: ${f.perWorkspace} per workspace), every policy`,
        figure: seconds(total),
        note: `CPU ${seconds(cpu)}; stack policies (${f.stackPolicies}) ${both(f.stack)} + resource policies ${both(f.resource)}; one no-op stack policy alone ${both(f.noop)}; findings: the planted hand-written cross-workspace grant only${target}`,
      });
    }
    return rows;
  },
};

if (isMain(import.meta.url)) {
  const workspaces = Number(process.argv[2] ?? 1000);
  const f = await measurePack(workspaces, 3, (line) => console.log(line));
  console.log(`a no-op stack policy (the SDK's deserialization alone): ${both(f.noop)}`);
  console.log(`best of 3 (wall and CPU each): analyzeStack (${f.stackPolicies} stack policies) ${both(f.stack)}; analyze × ${f.resources} (resource policies) ${both(f.resource)}; total ${seconds(f.stack.wallMs + f.resource.wallMs)} (CPU ${seconds(f.stack.cpuMs + f.resource.cpuMs)}); findings: ${f.findings.join(", ")}`);
}
