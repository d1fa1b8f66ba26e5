import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { declarationJsonSchema, JSON_SCHEMA_FILE } from "../../config/json-schema.ts";
import { loadDeclaration } from "../../config/load.ts";

describe("declaration schema", () => {
  it("matches the committed JSON Schema (run `npm run schema:write` after changing config/schema.ts)", () => {
    const committed = readFileSync(new URL(`../../${JSON_SCHEMA_FILE}`, import.meta.url), "utf8");
    expect(committed).toBe(declarationJsonSchema());
  });

  it("describes every field for editors", () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== "object") return;
      const properties = (node as { properties?: Record<string, { description?: string }> }).properties;
      for (const [key, child] of Object.entries(properties ?? {})) {
        if (!child.description) undocumented.push(`${path}.${key}`);
      }
      for (const [key, child] of Object.entries(node)) walk(child, `${path}.${key}`);
    };
    walk(JSON.parse(declarationJsonSchema()), "$");
    expect(undocumented).toEqual([]);
  });

  it("fills defaults and normalises emails into the model", () => {
    const loaded = loadDeclaration(
      "version: 1\norganization:\n  slug: acme\n  name: Acme\n  billing: { mode: rollup }\n  roles: {}\n  people: [{ email: Ａna@ACME.test }]\nworkspaces:\n  - { slug: w, name: W }\n",
      "t.yaml",
    );
    if (!loaded.ok || !loaded.model) throw new Error("must load");
    expect(loaded.issues).toEqual([]);
    expect(loaded.model.organization!.membership).toBe("multi-workspace");
    expect(loaded.model.organization!.people[0]!.key).toBe("ana@acme.test");
    expect(loaded.model.workspaces[0]).toMatchObject({ members: [], integrations: [], agents: [] });
  });

  it("still builds a model for the rules when one list element has a broken shape", () => {
    const loaded = loadDeclaration(
      "version: 1\norganization:\n  slug: acme\n  name: Acme\n  billing: { mode: rollup }\n  roles: {}\nworkspaces:\n  - { slug: broken, name: 5, members: nope }\n  - { slug: fine, name: Fine }\n",
      "t.yaml",
    );
    if (!loaded.ok || !loaded.model) throw new Error("must load");
    expect(loaded.issues.map((i) => i.path.join("."))).toEqual(["workspaces.0.name", "workspaces.0.members"]);
    expect(loaded.model.workspaces.map((w) => w.slug)).toEqual(["fine"]);
    expect(loaded.remap(["workspaces", 0, "slug"])).toEqual(["workspaces", 1, "slug"]);
  });
});
