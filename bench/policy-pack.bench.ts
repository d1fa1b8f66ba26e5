// How long the policy pack takes on a large stack, through @pulumi/policy's own gRPC handlers
// (deserialization, proxies, every policy) with no engine: a synthetic stack shaped like the
// real one — the components' resources, names, inputs and registered outputs — with N
// workspaces x 10 members and one integration each. `npx tsx bench/policy-pack.bench.ts [workspaces]`
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import type { TenancyModel } from "../config/model.ts";
import { PACK_NAME, policies } from "../policies/pack.ts";
import { watchSecrets } from "../policies/view.ts";
import { stackModel, stackSpecs } from "../test/policies/pack/fixtures.ts";
import { urnOf, type Spec } from "../test/policies/pack/harness.ts";
import { count, seconds } from "./measure.ts";
import { isMain, type BenchModule, type Row } from "./table.ts";

const require = createRequire(import.meta.url);
const server = require("@pulumi/policy/server") as {
  makeAnalyzeStackRpcFun: (...a: unknown[]) => (call: unknown, cb: (err: unknown, resp: { getDiagnosticsList(): unknown[] }) => void) => Promise<void>;
  makeAnalyzeRpcFun: (...a: unknown[]) => (call: unknown, cb: (err: unknown, resp: { getDiagnosticsList(): unknown[] }) => void) => Promise<void>;
};
const proto = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

const SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

function largeModel(workspaces: number, members: number): TenancyModel {
  const base = stackModel("dev");
  const people = Array.from({ length: workspaces * 2 }, (_, i) => ({ email: `p${i}@acme.test`, key: `p${i}@acme.test`, name: `Person ${i}` }));
  return {
    ...base,
    organization: { ...base.organization!, people: [{ ...base.organization!.people[0]! }, ...people] },
    workspaces: Array.from({ length: workspaces }, (_, w) => ({
      slug: `ws-${w}`, name: `Workspace ${w}`, decommissioned: false, agents: [{ slug: "agent", name: "Agent" }],
      exportProfile: { letterhead: `WS ${w}`, accentColour: "#0A84FF", contactBlock: `ws${w}@acme.test` },
      integrations: [{ slug: "slack", provider: "slack", credentialsSecret: `ws${w}SlackToken` }],
      members: Array.from({ length: members }, (_, m) => {
        const email = `p${(w * 7 + m) % people.length}@acme.test`;
        return { email, key: email, role: m === 0 ? "admin" : "viewer" };
      }).filter((m, i, all) => all.findIndex((x) => x.key === m.key) === i),
    })),
  };
}

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

function toProto(specs: readonly Spec[]) {
  const urns = new Map(specs.map((s) => [s.name, urnOf(specs, s)]));
  return specs.map((s) => {
    const r = new proto.AnalyzerResource();
    r.setType(s.type);
    r.setUrn(urns.get(s.name));
    r.setName(s.name);
    r.setProperties(Struct.fromJavaScript(withSecrets(s.props ?? {}, s.secret ?? [])));
    const opts = new proto.AnalyzerResourceOptions();
    opts.setProtect(s.protect ?? false);
    r.setOptions(opts);
    if (s.parent) r.setParent(urns.get(s.parent));
    return r;
  });
}

async function call(fn: ReturnType<typeof server.makeAnalyzeStackRpcFun>, request: unknown): Promise<number> {
  return new Promise((resolve, reject) => fn({ request }, (err, resp) => (err ? reject(err) : resolve(resp.getDiagnosticsList().length))));
}

export interface PackFigures {
  readonly workspaces: number;
  readonly resources: number;
  /** A no-op stack policy: what @pulumi/policy's deserialization alone costs. */
  readonly noopMs: number;
  /** analyzeStack with every stack policy: the fastest of `runs`. */
  readonly stackMs: number;
  /** analyze (resource policies) over every resource: the fastest of `runs`. */
  readonly resourceMs: number;
  readonly findings: number;
  readonly stackPolicies: number;
}

export async function measurePack(workspaces: number, runs = 3, log: (line: string) => void = () => {}): Promise<PackFigures> {
  watchSecrets();
  const model = largeModel(workspaces, 10);
  const specs = stackSpecs(model);
  const resources = toProto(specs);
  log(`policy pack: ${workspaces} workspaces x ${model.workspaces[0]!.members.length} members: ${specs.length} resources`);
  const noop = server.makeAnalyzeStackRpcFun(PACK_NAME, "0.1.0", "mandatory", [{ name: "noop", description: "Checks that nothing.", validateStack: () => {} }]);
  const baseline = new proto.AnalyzeStackRequest();
  baseline.setResourcesList(resources);
  const t0 = performance.now();
  await call(noop, baseline);
  const noopMs = performance.now() - t0;
  const analyzeStack = server.makeAnalyzeStackRpcFun(PACK_NAME, "0.1.0", "mandatory", policies);
  const analyze = server.makeAnalyzeRpcFun(PACK_NAME, "0.1.0", "mandatory", policies);
  let stackMs = Infinity;
  let resourceMs = Infinity;
  let findings = 0;
  for (let run = 1; run <= runs; run++) {
    // A new request per run, as the engine sends: nothing carries over between runs.
    const stackRequest = new proto.AnalyzeStackRequest();
    stackRequest.setResourcesList(run === 1 ? resources : toProto(specs));
    let t = performance.now();
    const stackFindings = await call(analyzeStack, stackRequest);
    stackMs = Math.min(stackMs, performance.now() - t);
    t = performance.now();
    let resourceFindings = 0;
    for (const r of resources) {
      const request = new proto.AnalyzeRequest();
      request.setType(r.getType()); request.setUrn(r.getUrn()); request.setName(r.getName());
      request.setProperties(r.getProperties()); request.setOptions(r.getOptions());
      resourceFindings += await call(analyze, request);
    }
    resourceMs = Math.min(resourceMs, performance.now() - t);
    findings = stackFindings + resourceFindings;
    log(`policy pack: run ${run}: analyzeStack ${(stackMs / 1000).toFixed(2)} s, analyze ${(resourceMs / 1000).toFixed(2)} s, findings ${findings}`);
  }
  return { workspaces, resources: specs.length, noopMs, stackMs, resourceMs, findings, stackPolicies: policies.filter((p) => "validateStack" in p).length };
}

export const bench: BenchModule = {
  name: "policy-pack",
  description: "the policy pack through @pulumi/policy's own handlers on a synthetic stack of 100 and 1,000 workspaces x 10 members",
  async run({ log }) {
    const rows: Row[] = [];
    for (const workspaces of [100, 1_000]) {
      const f = await measurePack(workspaces, 3, log);
      const target = workspaces === 1_000 ? `; target < 3 s: ${f.stackMs + f.resourceMs < 3000 ? "met" : "MISSED"}` : "";
      rows.push({
        area: "policy pack", measure: `${count(workspaces)} workspaces × 10 members (${count(f.resources)} resources), every policy`,
        figure: seconds(f.stackMs + f.resourceMs),
        note: `stack policies (${f.stackPolicies}) ${seconds(f.stackMs)} + resource policies ${seconds(f.resourceMs)}; one no-op stack policy alone ${seconds(f.noopMs)}; ${f.findings} findings${target}`,
      });
    }
    return rows;
  },
};

if (isMain(import.meta.url)) {
  const workspaces = Number(process.argv[2] ?? 1000);
  const f = await measurePack(workspaces, 3, (line) => console.log(line));
  console.log(`a no-op stack policy (the SDK's deserialization alone): ${(f.noopMs / 1000).toFixed(2)} s`);
  console.log(`best of 3: analyzeStack (${f.stackPolicies} stack policies) ${(f.stackMs / 1000).toFixed(2)} s; analyze x ${f.resources} (resource policies) ${(f.resourceMs / 1000).toFixed(2)} s; findings ${f.findings}`);
}
