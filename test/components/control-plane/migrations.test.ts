import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checksum, MIGRATIONS, migrationInputs, migrationOrderProblems, planMigrations, type MigrationInput } from "../../../components/control-plane/migrations.ts";
import { CONTROL_SCHEMA } from "../../../components/naming.ts";

const toy = (versions: readonly number[]): MigrationInput[] => versions.map((version) => ({ version, name: `m${version}`, sql: `SELECT ${version}`, checksum: checksum(`SELECT ${version}`) }));

describe("the migration list", () => {
  it("has versions from 1, strictly increasing", () => {
    expect(MIGRATIONS[0]?.version).toBe(1);
    expect(migrationOrderProblems(MIGRATIONS)).toEqual([]);
  });

  it("creates and alters only objects inside the control schema", () => {
    for (const m of MIGRATIONS) {
      const targets = [...m.sql.matchAll(/\b(?:CREATE (?:TABLE|VIEW|INDEX \w+ ON)|ALTER TABLE|REFERENCES)\s+([\w.]+)/g)].map((x) => x[1]);
      expect(targets.length).toBeGreaterThan(0);
      expect(targets.filter((t) => !t!.startsWith(`${CONTROL_SCHEMA}.`))).toEqual([]);
    }
  });

  it("reports versions that repeat, go back or are not positive integers", () => {
    expect(migrationOrderProblems([{ version: 1 }, { version: 3 }, { version: 3 }, { version: 2 }, { version: 0.5 }])).toEqual([
      "migration v3 follows v3; versions must strictly increase",
      "migration v2 follows v3; versions must strictly increase",
      "migration #5 has version 0.5; versions are integers from 1",
      "migration v0.5 follows v2; versions must strictly increase",
    ]);
  });

  it("checksums each migration's SQL", () => {
    expect(migrationInputs().map((m) => m.checksum)).toEqual(MIGRATIONS.map((m) => checksum(m.sql)));
    expect(checksum("a")).not.toBe(checksum("a "));
  });
});

describe("planMigrations", () => {
  it("applies each migration once: what a database lacks, in order, and then nothing", () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), fc.nat(), (raw, cut) => {
      const all = toy([...raw].sort((a, b) => a - b));
      const applied = all.slice(0, cut % (all.length + 1));
      const plan = planMigrations(all, applied);
      expect(plan).toEqual({ ok: true, pending: all.slice(applied.length) });
      if (!plan.ok) return;
      expect(planMigrations(all, [...applied, ...plan.pending])).toEqual({ ok: true, pending: [] });
    }));
  });

  it("refuses a database migrated by a newer toolkit", () => {
    expect(planMigrations(toy([1]), toy([1, 2]))).toEqual({ ok: false, problem: expect.stringMatching(/at migration v2, which this toolkit does not know .*upgrade the toolkit/) });
  });

  it("refuses a released migration that was edited", () => {
    const edited = toy([1, 2]).map((m) => (m.version === 1 ? { ...m, checksum: checksum("SELECT 'edited'") } : m));
    expect(planMigrations(edited, toy([1]))).toEqual({ ok: false, problem: expect.stringMatching(/migration v1 \(m1\) differs from the one applied.*add a new version instead/) });
  });
});
