import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDeclaration, MAX_DECLARATION_BYTES } from "../../config/load.ts";
import { checkDeclaration, checkDeclarationFile } from "../../policies/declaration.ts";
import { generateDeclaration } from "../../bench/generate.ts";

describe("loading a declaration", () => {
  it("maps paths back across many elements left out of several lists", () => {
    const ws = (w: number) => `  - slug: w${w}\n    name: W${w}\n    members:\n` +
      [0, 1, 2, 3, 4].map((m) => (m % 2 === 1 ? `      - { email: p${m}@acme.test }\n` : `      - { email: p${m}@acme.test, role: r${m} }\n`)).join("");
    const text = "version: 1\norganization:\n  slug: acme\n  name: Acme\n  billing: { mode: rollup }\n  roles: {}\n  people: []\nworkspaces:\n" +
      `  - { slug: broken, name: 5, members: nope }\n${ws(1)}  - { slug: gone, members: 3 }\n${ws(3)}`;
    const loaded = loadDeclaration(text, "t.yaml");
    if (!loaded.ok || !loaded.model) throw new Error("must load");
    expect(loaded.model.workspaces.map((w) => [w.slug, w.members.map((m) => m.role)])).toEqual([
      ["w1", ["r0", "r2", "r4"]], ["w3", ["r0", "r2", "r4"]],
    ]);
    expect(loaded.remap(["workspaces", 1, "members", 2, "role"])).toEqual(["workspaces", 3, "members", 4, "role"]);
    expect(loaded.remap(["workspaces", 0, "members", 1])).toEqual(["workspaces", 1, "members", 2]);
    // The rules see the model, the reports point into the file.
    const report = checkDeclaration(text, "t.yaml");
    const lines = text.split("\n");
    for (const v of report.violations.filter((v) => v.rule === "role-defined")) {
      expect(lines[v.line - 1]).toContain(v.message.match(/role "(r\d)"/)![1]);
    }
    expect(report.violations.filter((v) => v.rule === "role-defined")).toHaveLength(6);
  });

  it("reports every one of thousands of violations on its own line", () => {
    const text = generateDeclaration({ workspaces: 2_000, membersPerWorkspace: 3 }).replaceAll("role: editor}", "role: owner}");
    const report = checkDeclaration(text, "big.yaml");
    const lines = text.split("\n");
    expect(report.violations).toHaveLength(2_000);
    for (const v of report.violations) {
      expect(v.rule).toBe("role-defined");
      expect(lines[v.line - 1]).toContain("role: owner}");
    }
    expect(new Set(report.violations.map((v) => v.line)).size).toBe(2_000);
  }, 30_000); // a 2,000-workspace file: seconds when the machine is busy

  it("refuses a declaration over the size limit, naming its size and the limit", () => {
    const text = `version: 1\n#${"x".repeat(MAX_DECLARATION_BYTES)}\n`;
    const report = checkDeclaration(text, "huge.yaml");
    expect(report.model).toBeUndefined();
    expect(report.violations).toHaveLength(1);
    expect(report.violations[0]).toMatchObject({ file: "huge.yaml", line: 1, column: 1, rule: "yaml" });
    expect(report.violations[0]!.message).toBe(
      `the declaration is 16.0 MiB (${text.length} bytes), over the limit of 16.0 MiB (${MAX_DECLARATION_BYTES} bytes); split the organization across stacks`);
  });

  it("refuses a huge file before reading it", async () => {
    // A sparse 2 GiB file: reading it would take the memory the limit is there to protect.
    const file = join(mkdtempSync(join(tmpdir(), "tenancy-huge-")), "tenancy.yaml");
    writeFileSync(file, "version: 1\n");
    truncateSync(file, 2 * 1024 ** 3);
    const report = await checkDeclarationFile(file);
    expect(report.violations.map((v) => [v.rule, v.line, v.message.split(",")[0]])).toEqual([
      ["yaml", 1, "the declaration is 2048.0 MiB (2147483648 bytes)"],
    ]);
  });
});
