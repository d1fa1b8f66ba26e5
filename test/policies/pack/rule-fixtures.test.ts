// Every rule, through the pack: each rule's firing fixture (test/fixtures/rules), built into the
// resources the components would register, must be reported by the pack under the rule's id;
// its silent fixture must pass. Fixtures whose mistake cannot even be expressed as resources
// (the components refuse to build them, e.g. two workspaces with one slug would share a URN)
// are listed, so the set is explicit rather than silently smaller.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDeclaration } from "../../../config/load.ts";
import { rules } from "../../../policies/rules/index.ts";
import { stackSpecs } from "./fixtures.ts";
import { runPack, urnOf } from "./harness.ts";

const dir = join(import.meta.dirname, "../../fixtures/rules");
/** The components cannot build these declarations at all (builders refuse duplicate keys, no organization). */
const NOT_EXPRESSIBLE_AS_RESOURCES = new Set(["workspace-requires-organization", "invite-once"]);
/**
 * Nesting is a Workspace parented to a Workspace in the resource graph, which a declaration
 * cannot produce; test/policies/pack/tenancy.test.ts builds that graph and checks the report.
 */
const CHECKED_ON_THE_GRAPH = new Set(["no-nested-workspaces"]);
/** Two workspaces with one slug are two resources with one URN: the engine refuses them first. */
const REFUSED_BY_THE_ENGINE = new Set(["unique-workspace-slug"]);
/**
 * Firing fixtures that also repeat a slug (which the builders refuse): one expressible mistake
 * planted in the silent fixture instead.
 */
const PLANTED: Record<string, [from: string, to: string]> = {
  "integration-credentials-scoped": ["credentialsSecret: emeaSlackToken", "credentialsSecret: xoxb-2501234567-8012345678901-AbCdEfGhIjKlMnOpQrStUvWx"],
  "agent-isolated": ["styleMemoryFrom: aurora }", "styleMemoryFrom: nobody-here }"],
};

function firing(id: string) {
  const planted = PLANTED[id];
  if (!planted) return specsOf(`${id}.fires.yaml`);
  const text = readFileSync(join(dir, `${id}.silent.yaml`), "utf8");
  if (!text.includes(planted[0])) throw new Error(`${id}: cannot plant the mistake`);
  return specsOf(`${id}.planted.yaml`, text.replace(planted[0], planted[1]));
}

function specsOf(file: string, text = readFileSync(join(dir, file), "utf8")) {
  const loaded = loadDeclaration(text, file);
  if (!loaded.ok || !loaded.model) throw new Error(`${file}: no model`);
  return stackSpecs(loaded.model);
}

describe("every rule through the policy pack", () => {
  for (const rule of rules) {
    // Change rules compare two versions; the pack sees one (they run in `tenancy plan`).
    if (rule.needs === "change") continue;
    if (CHECKED_ON_THE_GRAPH.has(rule.id)) continue;
    if (REFUSED_BY_THE_ENGINE.has(rule.id)) {
      it(`gives ${rule.id}'s firing fixture duplicate resource URNs, which the engine refuses before any policy`, () => {
        const specs = specsOf(`${rule.id}.fires.yaml`);
        const urns = specs.map((spec) => urnOf(specs, spec));
        expect(new Set(urns).size).toBeLessThan(urns.length);
      });
      continue;
    }
    if (NOT_EXPRESSIBLE_AS_RESOURCES.has(rule.id)) {
      it(`cannot build resources for ${rule.id}'s firing fixture (so the engine never sees that mistake)`, () => {
        expect(() => specsOf(`${rule.id}.fires.yaml`)).toThrow();
      });
      continue;
    }
    it(`reports ${rule.id} for its firing fixture and stays silent on the silent one`, async () => {
      const fires = await runPack(firing(rule.id));
      expect(fires.map((r) => r.policy)).toContain(rule.id);
      const silent = await runPack(specsOf(`${rule.id}.silent.yaml`));
      expect(silent.filter((r) => r.policy === rule.id)).toEqual([]);
    });
  }
});
