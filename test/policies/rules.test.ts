// Fixture-driven: every rule has `<id>.fires.yaml`, whose lines marked `# expect: <id>` are
// exactly where violations must be reported, and `<id>.silent.yaml`, which must be clean.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDeclaration } from "../../policies/declaration.ts";
import { rules } from "../../policies/rules/index.ts";

const dir = join(import.meta.dirname, "../fixtures/rules");
const fixtures = readdirSync(dir);

function expectations(text: string): string[] {
  return text.split("\n").flatMap((line, i) => {
    const marker = /# expect: (.*)$/.exec(line);
    return marker ? marker[1]!.split(",").map((id) => `${i + 1} ${id.trim()}`) : [];
  });
}

function check(name: string) {
  const text = readFileSync(join(dir, name), "utf8");
  return { text, report: checkDeclaration(text, name) };
}

describe("rule fixtures", () => {
  it("has a firing and a silent fixture for every rule (a base and a head for change rules)", () => {
    for (const rule of rules) {
      const kinds = rule.needs === "change"
        ? ["fires.base", "fires.head", "silent.base", "silent.head"]
        : ["fires", "silent"];
      for (const kind of kinds) expect(fixtures, rule.id).toContain(`${rule.id}.${kind}.yaml`);
    }
  });

  for (const name of fixtures.filter((f) => f.endsWith(".fires.yaml"))) {
    it(`reports ${name.replace(".fires.yaml", "")} on exactly the marked lines of ${name}`, () => {
      const { text, report } = check(name);
      const got = report.violations.map((v) => `${v.line} ${v.rule}`).sort();
      expect(got).toEqual(expectations(text).sort());
      expect(report.model).toBeUndefined();
    });
  }

  for (const name of fixtures.filter((f) => f.endsWith(".silent.yaml"))) {
    it(`keeps ${name.replace(".silent.yaml", "")} silent on ${name}`, () => {
      const { report } = check(name);
      expect(report.violations).toEqual([]);
      expect(report.model).toBeDefined();
    });
  }
});

describe("rules", () => {
  it("have unique kebab-case ids and descriptions starting with 'Checks that'", () => {
    const ids = rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of rules) {
      expect(rule.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(rule.description).toMatch(/^Checks that /);
    }
  });

  it("are all listed in the README's rule table", () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    for (const rule of rules) expect(readme, rule.id).toContain(`| \`${rule.id}\` |`);
  });

  it("never print a literal credential in any message", () => {
    const { report } = check("integration-credentials-scoped.fires.yaml");
    const printed = JSON.stringify(report.violations);
    expect(printed).not.toContain("xoxb-2501234567");
    expect(printed).not.toContain("kX9pQ2mZ7vB4nR8tL1wY6cJ3");
    expect(printed).not.toContain("not a key name");
  });

  it("reports the schema error on a rule-owned field under the rule's id, once", () => {
    const { report } = check("export-profile-valid.fires.yaml");
    const blue = report.violations.filter((v) => v.message.includes('"blue"'));
    expect(blue).toHaveLength(1);
    expect(blue[0]!.rule).toBe("export-profile-valid");
  });
});
