// The tenancy provider's shared diff helpers (provider/resources/common.ts): pure, no database.
// Lives here because this port may only touch test/components and test/policies; it mirrors
// provider/resources/ and moves to test/provider/resources/ unchanged (same relative depth).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { identifierFailures, mapDiff, propertyDiff } from "../../../provider/resources/common.ts";
import { UNKNOWN } from "../../../provider/server.ts";

const dict = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });

describe("mapDiff", () => {
  it("names exactly the keys that differ: add when only new, delete when only old, update when both and unequal", () => {
    fc.assert(fc.property(dict, dict, (olds, news) => {
      const diff = mapDiff("grants", olds, news);
      const expected: Record<string, string> = {};
      for (const key of new Set([...Object.keys(olds), ...Object.keys(news)])) {
        const path = `grants[${JSON.stringify(key)}]`;
        if (!Object.hasOwn(olds, key)) expected[path] = "add";
        else if (!Object.hasOwn(news, key)) expected[path] = "delete";
        else if (JSON.stringify(sorted(olds[key])) !== JSON.stringify(sorted(news[key]))) expected[path] = "update";
      }
      expect(diff).toEqual(expected);
    }));
  });

  it("sees no change when only the order of keys differs, at any depth", () => {
    fc.assert(fc.property(dict, (value) => {
      expect(mapDiff("m", value, reversed(value) as Record<string, unknown>)).toEqual({});
    }));
  });

  it("quotes each key, so a key holding brackets or quotes names one entry", () => {
    expect(mapDiff("members", { 'a"]b': 1 }, {})).toEqual({ 'members["a\\"]b"]': "delete" });
    expect(mapDiff("members", undefined, { "ana@acme.test": "admin" })).toEqual({ 'members["ana@acme.test"]': "add" });
    expect(mapDiff("members", { "ana@acme.test": "admin" }, undefined)).toEqual({ 'members["ana@acme.test"]': "delete" });
  });
});

describe("propertyDiff", () => {
  it("compares only the listed properties, as values whatever their key order", () => {
    const olds = { a: { x: 1, y: 2 }, b: [1, 2], skipped: 1 };
    expect(propertyDiff(olds, { a: { y: 2, x: 1 }, b: [1, 2], skipped: 2 }, ["a", "b"])).toEqual({});
    expect(propertyDiff(olds, { ...olds, b: [2, 1] }, ["a", "b"])).toEqual({ b: "update" });
  });

  it("marks the properties that replace the resource as update-replace", () => {
    expect(propertyDiff({ slug: "a", name: "A" }, { slug: "b", name: "B" }, ["slug", "name"], ["slug"])).toEqual({ slug: "update-replace", name: "update" });
    expect(propertyDiff({ slug: "a" }, { slug: "a" }, ["slug"], ["slug"])).toEqual({});
  });

  it("sees a property added or removed", () => {
    expect(propertyDiff({}, { plan: "studio" }, ["plan"])).toEqual({ plan: "update" });
    expect(propertyDiff({ plan: "studio" }, {}, ["plan"])).toEqual({ plan: "update" });
  });
});

describe("identifierFailures", () => {
  it("accepts plain lower-case identifiers of up to 63 bytes and values not known yet", () => {
    expect(identifierFailures({ schema: "acme__emea", owner: `a${"b".repeat(62)}`, database: UNKNOWN })).toEqual([]);
  });

  it("names each property holding something PostgreSQL would quote, truncate or not take as a name", () => {
    const failures = identifierFailures({ schema: "Acme", owner: `a${"b".repeat(63)}`, app: 'x"; DROP ROLE admin; --', readonly: 7, database: "" });
    expect(failures.map((f) => f.property)).toEqual(["schema", "owner", "app", "readonly", "database"]);
    expect(failures[0]!.reason).toBe('invalid PostgreSQL name "Acme"');
  });
});

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, sorted(v)]));
  return value;
}

function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  return value;
}
