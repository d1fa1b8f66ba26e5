import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { workspaceRecordArgs } from "../../../components/control-plane/args.ts";
import { canonical, changedProperties, describeMemberChange, memberChanges } from "../../../components/control-plane/diff.ts";
import { checkDeclaration } from "../../../policies/declaration.ts";
import { workspaceRecordKind, type WorkspaceRecordInputs } from "../../../provider/resources/control-plane.ts";
import type { Diff } from "../../../provider/server.ts";

const devFile = new URL("../../../stacks/dev/tenancy.yaml", import.meta.url).pathname;
const dev = checkDeclaration(readFileSync(devFile, "utf8"), devFile).model!;
/** The emea-support record as the Workspace sends it, with the member list replaced. */
const record = workspaceRecordArgs(dev, dev.workspaces.find((w) => w.slug === "emea-support")!);
const emails = ["ana@acme.test", "ben@acme.test", "chloe@acme.test", "dev@partner.test", "eve@acme.test", "fay@acme.test"];
const roles = ["admin", "editor", "viewer"];

/** A member list as entries, in an arbitrary order. */
const memberList = fc.uniqueArray(fc.tuple(fc.constantFrom(...emails), fc.constantFrom(...roles)), { selector: ([email]) => email, maxLength: emails.length });
const state = (entries: readonly (readonly [string, string])[]): WorkspaceRecordInputs => ({ ...record, members: Object.fromEntries(entries) });
function diffMembers(olds: WorkspaceRecordInputs, news: WorkspaceRecordInputs): Diff {
  const d = workspaceRecordKind.diff(olds, news);
  if (d instanceof Promise) throw new Error("expected a synchronous diff");
  return d;
}

describe("the membership diff (a WorkspaceRecord's members, per person)", () => {
  it("lists exactly the people added, removed or whose role changed, once each", () => {
    fc.assert(fc.property(memberList, memberList, (before, after) => {
      const olds = Object.fromEntries(before);
      const news = Object.fromEntries(after);
      const expected = emails.filter((e) => olds[e] !== news[e]);
      const diff = diffMembers(state(before), state(after));
      expect(memberChanges(olds, news).map((c) => c.email)).toEqual(expected);
      expect(Object.keys(diff.detailedDiff).sort()).toEqual(expected.map((e) => `members[${JSON.stringify(e)}]`).sort());
      for (const c of memberChanges(olds, news)) expect(diff.detailedDiff[`members[${JSON.stringify(c.email)}]`]).toBe(c.kind);
      expect(diff.replaces).toEqual([]);
    }));
  });

  it("says each person's kind of change and roles", () => {
    fc.assert(fc.property(memberList, memberList, (before, after) => {
      const olds = Object.fromEntries(before);
      const news = Object.fromEntries(after);
      for (const c of memberChanges(olds, news)) {
        if (c.kind === "add") expect([olds[c.email], news[c.email]]).toEqual([undefined, c.to]);
        if (c.kind === "delete") expect([olds[c.email], news[c.email]]).toEqual([c.from, undefined]);
        if (c.kind === "update") expect([olds[c.email], news[c.email]]).toEqual([c.from, c.to]);
      }
    }));
  });

  it("finds no change when only the order of the members differs", () => {
    fc.assert(fc.property(memberList, fc.func(fc.integer()), (entries, key) => {
      const moved = [...entries].sort((a, b) => key(a[0]) - key(b[0]));
      expect(diffMembers(state(entries), state(moved))).toEqual({ replaces: [], detailedDiff: {} });
    }));
  });

  it("replaces the record when it moves to another workspace or organization", () => {
    expect(diffMembers(state([]), { ...state([]), slug: "apac" })).toEqual({ replaces: ["slug"], detailedDiff: { slug: "update-replace" } });
    expect(diffMembers(state([]), { ...state([]), organization: "globex" })).toEqual({ replaces: ["organization"], detailedDiff: { organization: "update-replace" } });
  });

  it("updates the record's other properties in place, each named, beside the members", () => {
    const diff = diffMembers(state([["ana@acme.test", "admin"]]), { ...state([["ana@acme.test", "viewer"]]), name: "EMEA", decommissioned: true });
    expect(diff).toEqual({ replaces: [], detailedDiff: { name: "update", decommissioned: "update", 'members["ana@acme.test"]': "update" } });
  });

  it("reads like the plan a reviewer expects", () => {
    const changes = memberChanges({ "ana@acme.test": "viewer", "dev@partner.test": "viewer" }, { "ana@acme.test": "admin", "ben@acme.test": "editor" });
    expect(changes.map(describeMemberChange)).toEqual(["ana@acme.test: viewer -> admin", "+ ben@acme.test: editor", "- dev@partner.test: viewer"]);
  });
});

describe("canonical and changedProperties", () => {
  it("compare values whatever their key order, ignoring undefined properties", () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
      const reversed = Object.fromEntries(Object.entries(value).reverse());
      expect(canonical(reversed)).toBe(canonical(value));
      expect(changedProperties(value, { ...reversed, extra: undefined })).toEqual([]);
    }));
  });

  it("names the top-level properties that differ, leaving out the ignored ones", () => {
    expect(changedProperties({ a: 1, b: [1, 2], c: { x: 1 }, __provider: "p1" }, { a: 1, b: [2, 1], c: { x: 2 }, __provider: "p2" }, ["__provider"])).toEqual(["b", "c"]);
  });
});
