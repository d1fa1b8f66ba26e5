import { describe, expect, it } from "vitest";
import { loadDeclaration } from "../../config/load.ts";
import { ownerOf, runRules } from "../../policies/rules/engine.ts";
import { rules } from "../../policies/rules/index.ts";
import { defineRule, Severity } from "../../policies/rules/types.ts";
import { readFileSync } from "node:fs";

const devText = readFileSync(new URL("../../stacks/dev/tenancy.yaml", import.meta.url), "utf8");
const loaded = loadDeclaration(devText, "dev.yaml");
if (!loaded.ok || !loaded.model) throw new Error("dev stack must load");
const model = loaded.model;

describe("runRules", () => {
  it("runs change rules only when a previous version is given", () => {
    const removed = defineRule({
      id: "workspace-delete-guarded-example",
      description: "Checks that a test change rule sees both versions.",
      severity: Severity.Error,
      needs: "change",
      *check({ model: now, previous }) {
        const kept = new Set(now.workspaces.map((w) => w.slug));
        for (const ws of previous!.workspaces) if (!kept.has(ws.slug)) yield { path: ["workspaces"], message: `removed ${ws.slug}` };
      },
    });
    const shrunk = { ...model, workspaces: model.workspaces.slice(1) };
    expect(runRules({ model: shrunk }, [removed])).toEqual([]);
    expect(runRules({ model: shrunk, previous: model }, [removed]).map((v) => v.message)).toEqual(["removed emea-support"]);
  });

  it("finds nothing wrong with the dev stack", () => {
    expect(runRules({ model }, rules)).toEqual([]);
  });
});

describe("ownerOf", () => {
  it("gives a rule-owned field to its rule and anything else to schema", () => {
    expect(ownerOf(["workspaces", 3, "exportProfile", "accentColour"], rules).id).toBe("export-profile-valid");
    expect(ownerOf(["workspaces", 0, "creditPool", "monthlyAllowance"], rules).id).toBe("credit-pool-per-workspace");
    expect(ownerOf(["organization", "billing", "creditPool", "monthlyAllowance"], rules).id).toBe("credit-pool-per-workspace");
    expect(ownerOf(["workspaces", 1, "workspaces"], rules).id).toBe("no-nested-workspaces");
    expect(ownerOf(["organization"], rules).id).toBe("workspace-requires-organization");
    expect(ownerOf(["organization", "slug"], rules).id).toBe("schema");
    expect(ownerOf(["workspaces", 0, "slug"], rules).id).toBe("schema");
  });
});
