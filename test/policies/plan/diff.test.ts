// The semantic diff is pure and keyed by slug and normalised email: reordering is no change.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadDeclaration } from "../../../config/load.ts";
import type { TenancyModel } from "../../../config/model.ts";
import { diffModels } from "../../../policies/plan/diff.ts";
import { risksOf } from "../../../policies/plan/risk.ts";

function model(text: string): TenancyModel {
  const loaded = loadDeclaration(text, "x.yaml");
  if (!loaded.ok || !loaded.model) throw new Error("fixture must load");
  return loaded.model;
}

const dev = model(readFileSync(new URL("../../../stacks/dev/tenancy.yaml", import.meta.url), "utf8"));

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("diffModels", () => {
  it("finds no change when only the order of lists changes", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 30 }), (seed) => {
      const org = dev.organization!;
      const reordered: TenancyModel = {
        ...dev,
        organization: { ...org, people: shuffled(org.people, seed), roles: Object.fromEntries(shuffled(Object.entries(org.roles).map(([r, p]) => [r, shuffled(p, seed + 1)] as const), seed)) },
        workspaces: shuffled(dev.workspaces, seed + 2).map((ws, i) => ({
          ...ws,
          members: shuffled(ws.members, seed + i),
          integrations: shuffled(ws.integrations, seed + i + 1),
          agents: shuffled(ws.agents, seed + i + 2),
        })),
      };
      expect(diffModels(dev, reordered)).toEqual([]);
      expect(risksOf(dev, reordered, [])).toEqual([]);
    }));
  });

  it("compares emails after NFKC and lower-casing", () => {
    const text = readFileSync(new URL("../../../stacks/dev/tenancy.yaml", import.meta.url), "utf8").replaceAll("ana@acme.test", "Ａna@ACME.test");
    expect(diffModels(dev, model(text)).map((c) => c.kind)).toEqual([]);
  });

  it("is nothing for two absent sides, and everything for a new stack", () => {
    expect(diffModels(undefined, undefined)).toEqual([]);
    const kinds = diffModels(undefined, dev).map((c) => c.kind);
    expect(kinds[0]).toBe("organization-created");
    expect(kinds.filter((k) => k === "workspace-created")).toHaveLength(3);
    expect(kinds.filter((k) => k === "member-added")).toHaveLength(7);
  });

  it("treats a new organization slug as a removed organization and a new one", () => {
    const renamed = model(readFileSync(new URL("../../../stacks/dev/tenancy.yaml", import.meta.url), "utf8").replace("slug: acme", "slug: acme-two"));
    const kinds = diffModels(dev, renamed).map((c) => c.kind);
    expect(kinds.slice(0, 2)).toEqual(["organization-removed", "organization-created"]);
    expect(kinds.filter((k) => k === "workspace-deleted")).toHaveLength(3);
    expect(kinds.filter((k) => k === "workspace-created")).toHaveLength(3);
  });
});
