// Change rules, fixture-driven like the others: `<id>.fires.base.yaml` -> `<id>.fires.head.yaml`
// must be reported on exactly the lines marked `# expect: <id>` — in the head for what is still
// declared, in the base for what the change removed — and the silent pair must be clean.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planStack, type SideText } from "../../policies/plan/plan.ts";
import { rules } from "../../policies/rules/index.ts";

const dir = join(import.meta.dirname, "../fixtures/rules");
const changeRules = rules.filter((r) => r.needs === "change");

function side(name: string): SideText {
  const text = readFileSync(join(dir, name), "utf8");
  return { source: name, text, sha256: createHash("sha256").update(text).digest("hex") };
}

function expectations(s: SideText): string[] {
  return s.text.split("\n").flatMap((line, i) => {
    const marker = /# expect: (.*)$/.exec(line);
    return marker ? marker[1]!.split(",").map((id) => `${s.source}:${i + 1} ${id.trim()}`) : [];
  });
}

describe("change rule fixtures", () => {
  it("covers the four transition rules, each a guard but the organization one", () => {
    expect(changeRules.map((r) => [r.id, r.acknowledgeable ?? false])).toEqual([
      ["organization-delete-blocked", false],
      ["workspace-delete-guarded", true],
      ["mass-removal-guarded", true],
      ["admin-removal-guarded", true],
    ]);
  });

  for (const rule of changeRules) {
    it(`reports ${rule.id} on exactly the marked lines of its base and head`, () => {
      const [base, head] = [side(`${rule.id}.fires.base.yaml`), side(`${rule.id}.fires.head.yaml`)];
      const plan = planStack({ stack: rule.id, base, head });
      const got = plan.violations.map((v) => `${v.file}:${v.line} ${v.rule}`).sort();
      expect(got).toEqual([...expectations(base), ...expectations(head)].sort());
      expect(got.some((g) => g.endsWith(rule.id))).toBe(true);
    });

    it(`keeps ${rule.id} silent on its silent base and head`, () => {
      const plan = planStack({ stack: rule.id, base: side(`${rule.id}.silent.base.yaml`), head: side(`${rule.id}.silent.head.yaml`) });
      expect(plan.violations).toEqual([]);
    });

    it(`does not run ${rule.id} without a previous version`, () => {
      const plan = planStack({ stack: rule.id, head: side(`${rule.id}.fires.head.yaml`) });
      expect(plan.violations.map((v) => v.rule)).not.toContain(rule.id);
    });
  }
});

describe("change rule settings and edge cases", () => {
  const admin = { base: side("admin-removal-guarded.silent.base.yaml"), head: side("admin-removal-guarded.silent.head.yaml") };

  it("admin-removal-guarded takes its minimum from the settings", () => {
    const plan = planStack({ stack: "s", ...admin, settings: { minAdmins: 2 } });
    expect(plan.violations.map((v) => [v.rule, v.line])).toEqual([["admin-removal-guarded", 18]]);
    expect(plan.violations[0]!.message).toBe(
      'workspace "emea" must keep at least 2 admins when admins are removed; admins 2 → 1, no longer admin: "ben@acme.test"',
    );
  });

  it("mass-removal-guarded takes its share from the settings", () => {
    const mass = { base: side("mass-removal-guarded.silent.base.yaml"), head: side("mass-removal-guarded.silent.head.yaml") };
    expect(planStack({ stack: "s", ...mass }).violations).toEqual([]);
    const strict = planStack({ stack: "s", ...mass, settings: { maxRemovalShare: 0.2 } });
    expect(strict.violations.map((v) => v.message)).toEqual([
      'the directory of "acme" must not lose more than 20% of its people in one change; removing 2 of 8 (25%): "gus@acme.test", "hana@acme.test"',
      'workspace "emea" must not lose more than 20% of its members in one change; removing 1 of 4 (25%): "ben@acme.test"',
    ]);
  });

  it("a removed stack points organization-delete-blocked and workspace-delete-guarded into the base", () => {
    const base = side("workspace-delete-guarded.fires.base.yaml");
    const plan = planStack({ stack: "s", base });
    expect(plan.status).toBe("removed");
    expect(plan.violations.map((v) => `${v.file}:${v.line} ${v.rule}`)).toEqual([
      "workspace-delete-guarded.fires.base.yaml:2 organization-delete-blocked",
      "workspace-delete-guarded.fires.base.yaml:11 workspace-delete-guarded",
      "workspace-delete-guarded.fires.base.yaml:15 workspace-delete-guarded",
    ]);
  });

  it("marks acknowledged guard findings and leaves other rules unacknowledged", () => {
    const base = side("workspace-delete-guarded.fires.base.yaml");
    const plan = planStack({ stack: "s", base, acknowledge: ["workspace-delete-guarded", "organization-delete-blocked"] });
    expect(plan.violations.map((v) => [v.rule, v.acknowledged])).toEqual([
      ["organization-delete-blocked", false],
      ["workspace-delete-guarded", true],
      ["workspace-delete-guarded", true],
    ]);
  });
});
