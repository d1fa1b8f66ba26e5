import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TenancyModel } from "../../../config/model.ts";
import { resourceNamesValid } from "../../../policies/rules/names.ts";

const parts = ["database", "record", "members", "secrets"];

/** The rule's first, quadratic definition: every workspace against every other. */
function shadowedByScan(model: TenancyModel): (string | undefined)[] {
  return model.workspaces.map((ws) => model.workspaces.find((other) => other !== ws &&
    parts.some((part) => ws.slug === `${other.slug}-${part}` || ws.slug.startsWith(`${other.slug}-${part}-`)))?.slug);
}

function modelOf(slugs: readonly string[]): TenancyModel {
  return {
    version: 1,
    organization: { slug: "acme", name: "Acme", billing: { mode: "rollup" }, membership: "multi-workspace", roles: {}, people: [] },
    workspaces: slugs.map((slug) => ({ slug, name: slug, members: [], integrations: [], agents: [] })),
  } as unknown as TenancyModel;
}

describe("resource-names-valid", () => {
  it("finds the same shadowing workspace as comparing every pair", () => {
    // Slugs from a tiny alphabet so that shadowing, repeats and "--" happen often.
    const slug = fc.array(fc.constantFrom("a", "b", "-database", "-secrets", "-members", "-record", "-"), { minLength: 1, maxLength: 5 })
      .map((pieces) => pieces.join(""));
    fc.assert(fc.property(fc.array(slug, { maxLength: 12 }), (slugs) => {
      const model = modelOf(slugs);
      const shadowed = shadowedByScan(model);
      const found = [...resourceNamesValid.check({ model })];
      const byIndex = new Map(found.map((f) => [f.path[1], f.message]));
      for (const [w, other] of shadowed.entries()) {
        if (other === undefined) expect(byIndex.get(w) ?? "").not.toContain("must not start with another workspace's slug");
        else expect(byIndex.get(w)).toContain(`must not start with another workspace's slug ${JSON.stringify(other)}`);
      }
    }), { numRuns: 500 });
  });

  it("checks 20,000 workspaces without comparing every pair", () => {
    // Behaviour only (speed is bench/rules.bench.ts's): among many, the one shadowed slug.
    const slugs = Array.from({ length: 20_000 }, (_, i) => `ws-${i}`);
    slugs.push("ws-19999-secrets");
    const found = [...resourceNamesValid.check({ model: modelOf(slugs) })];
    expect(found.map((f) => f.path)).toEqual([["workspaces", 20_000, "slug"]]);
  });
});
