// Each rule's growth, one input dimension at a time and all together, so a quadratic rule shows
// at once: a rule linear in what grew costs ×10 when it grows ×10, a quadratic one ×100.
// `npx tsx bench/rules.bench.ts` prints the full grid; `npm run bench` keeps one row per rule.
import type { TenancyModel } from "../config/model.ts";
import { normalize } from "../config/model.ts";
import { DeclarationSchema } from "../config/schema.ts";
import { rules, type Rule } from "../policies/rules/index.ts";
import { generateDocument, type GenerateOptions } from "./generate.ts";
import { factor, perCall } from "./measure.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";

type Sizes = Required<Omit<GenerateOptions, "people">> & { readonly people: number };

// A base large enough that neither input fits in the CPU's caches (a small one does, and
// every rule would look superlinear).
const BASE: Sizes = { workspaces: 3000, membersPerWorkspace: 5, people: 500, integrationsPerWorkspace: 1, agentsPerWorkspace: 1 };
const GROWTH = 10;
/** "All together" grows every dimension by this much (×10 each would be 250 times the input). */
const ALL = 3;

/** The dimensions grown, each ×10 alone, then all of them ×3 at once. */
export const DIMENSIONS: readonly { name: string; sizes: Sizes }[] = [
  { name: "workspaces", sizes: { ...BASE, workspaces: BASE.workspaces * GROWTH } },
  { name: "members", sizes: { ...BASE, membersPerWorkspace: BASE.membersPerWorkspace * GROWTH } },
  { name: "people", sizes: { ...BASE, people: BASE.people * GROWTH } },
  { name: "integrations", sizes: { ...BASE, integrationsPerWorkspace: BASE.integrationsPerWorkspace * GROWTH } },
  { name: "agents", sizes: { ...BASE, agentsPerWorkspace: BASE.agentsPerWorkspace * GROWTH } },
  {
    name: "all",
    sizes: {
      workspaces: BASE.workspaces * ALL, membersPerWorkspace: BASE.membersPerWorkspace * ALL, people: BASE.people * ALL,
      integrationsPerWorkspace: BASE.integrationsPerWorkspace * ALL, agentsPerWorkspace: BASE.agentsPerWorkspace * ALL,
    },
  },
];

/** Elements in the model: what "input ×N" counts. */
function elements(s: Sizes): number {
  return s.workspaces * (1 + s.membersPerWorkspace + s.integrationsPerWorkspace + s.agentsPerWorkspace) + s.people;
}

function modelOf(sizes: Sizes): TenancyModel {
  return normalize(DeclarationSchema.parse(generateDocument(sizes)));
}

// A change rule (tenancy plan's) compares two versions: here the model with a copy of itself, so
// it walks everything and finds nothing, like a plan of an unchanged stack.
const run = (rule: Rule, model: TenancyModel) => {
  const context = rule.needs === "change" ? { model, previous: structuredClone(model) } : { model };
  return () => {
    let n = 0;
    for (const _ of rule.check(context)) n++;
    return n;
  };
};

export interface RuleGrowth {
  readonly rule: string;
  /** Time on the grown input over time on the base input, per dimension. */
  readonly growth: Readonly<Record<string, number>>;
}

/**
 * Whether a growth factor means worse than n log n: a rule linear in what grew stays near the
 * input factor, n log n a little above, quadratic near its square (×100 for ×10). Linear rules
 * that fill a map per workspace measure up to about 3× the input factor (×30 for ×10): the
 * base's 3,000-entry map stays in the CPU caches and the young generation, the grown one does
 * not (measured at 3,000 / 30,000 / 100,000 workspaces: ×25, then ×5.5 for ×3.3).
 */
export function superlinear(growth: number, input: number): boolean {
  return growth > 4 * input;
}

export function measureRuleGrowth(log: (line: string) => void = () => {}): { results: RuleGrowth[]; inputs: Record<string, number> } {
  const base = modelOf(BASE);
  const inputs: Record<string, number> = {};
  const results = rules.map((rule) => ({ rule: rule.id, growth: {} as Record<string, number> }));
  for (const { name, sizes } of DIMENSIONS) {
    log(`rules: growing ${name}`);
    const grown = modelOf(sizes);
    inputs[name] = name === "all" ? elements(sizes) / elements(BASE) : GROWTH;
    for (const [i, rule] of rules.entries()) {
      // Side by side: the base and the grown input, interleaved, the faster of two each.
      const small1 = perCall(run(rule, base));
      const large1 = perCall(run(rule, grown));
      const small = Math.min(small1, perCall(run(rule, base)));
      const large = Math.min(large1, perCall(run(rule, grown)));
      results[i]!.growth[name] = large / small;
    }
  }
  return { results, inputs };
}

function growthLine(r: RuleGrowth): string {
  return DIMENSIONS.map(({ name }) => `${name} ${factor(r.growth[name]!)}`).join(", ");
}

export const bench: BenchModule = {
  name: "rules",
  description: "each rule's time growth when workspaces, members, people, integrations, agents grow ×10 (alone and together)",
  async run({ log }) {
    const { results, inputs } = measureRuleGrowth(log);
    const input = `input ×${GROWTH} per dimension; all ×${ALL} each: input ×${inputs.all!.toFixed(1)}`;
    return results.map((r): Row => {
      const worst = DIMENSIONS.filter(({ name }) => superlinear(r.growth[name]!, inputs[name]!)).map(({ name }) => name);
      return {
        area: "rules",
        measure: `${r.rule} growth (${input})`,
        figure: growthLine(r),
        note: worst.length === 0 ? "linear (no factor above 4× its input's)" : `SUPERLINEAR in ${worst.join(", ")}`,
      };
    });
  },
};

if (isMain(import.meta.url)) {
  const { results, inputs } = measureRuleGrowth((line) => process.stderr.write(`${line}\n`));
  const header = `base: ${BASE.workspaces} workspaces × ${BASE.membersPerWorkspace} members, ${BASE.people} people, ` +
    `${BASE.integrationsPerWorkspace} integration and ${BASE.agentsPerWorkspace} agent per workspace; each dimension ×${GROWTH}, ` +
    `"all" grows every one ×${ALL} (input ×${inputs.all!.toFixed(1)})`;
  console.log(header);
  console.log(renderText(results.map((r) => ({
    area: "rules", measure: r.rule, figure: growthLine(r),
    note: DIMENSIONS.some(({ name }) => superlinear(r.growth[name]!, inputs[name]!)) ? "SUPERLINEAR" : "",
  }))));
}
