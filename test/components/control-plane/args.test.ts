import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../../../components/control-plane/args.ts";
import { canonical } from "../../../components/control-plane/diff.ts";
import { organizationRecordProblems, workspaceRecordProblems } from "../../../components/control-plane/problems.ts";
import { organizationRecordKind, workspaceRecordKind } from "../../../provider/resources/control-plane.ts";
import type { TenancyModel } from "../../../config/model.ts";
import { checkDeclaration } from "../../../policies/declaration.ts";

const root = new URL("../../..", import.meta.url).pathname;

function model(text: string): TenancyModel {
  const report = checkDeclaration(text, "tenancy.yaml");
  if (!report.model) throw new Error(report.violations.map((v) => v.message).join("\n"));
  return report.model;
}

const dev = model(readFileSync(`${root}/stacks/dev/tenancy.yaml`, "utf8"));
const agency = model(readFileSync(`${root}/stacks/agency/tenancy.yaml`, "utf8"));
const ws = (m: TenancyModel, slug: string) => m.workspaces.find((w) => w.slug === slug)!;

/** Paths of properties set to undefined: the engine drops them, so a record read back would differ. */
function undefinedPaths(value: unknown, path = "$"): string[] {
  if (value === undefined) return [path];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => undefinedPaths(v, `${path}.${k}`));
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  for (let i = out.length - 1, s = seed; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("organizationRecordArgs", () => {
  it("records a rollup organization with its plan, pool, catalogue and directory keyed by email", () => {
    expect(organizationRecordArgs(dev)).toEqual({
      slug: "acme",
      name: "Acme Agency",
      billingMode: "rollup",
      plan: "agency",
      membershipMode: "multi-workspace",
      roles: {
        admin: ["workspaces.manage", "members.manage", "integrations.manage", "agents.manage", "billing.view"],
        editor: ["agents.manage", "knowledge.manage"],
        viewer: [],
      },
      people: {
        "ana@acme.test": { email: "ana@acme.test", name: "Ana Ruiz", orgRole: "admin" },
        "ben@acme.test": { email: "ben@acme.test", name: "Ben Okafor" },
        "chloe@acme.test": { email: "chloe@acme.test", name: "Chloé Martin" },
        "dev@partner.test": { email: "dev@partner.test", name: "Dev Patel" },
      },
      creditPool: { monthlyAllowance: 100000 },
    });
  });

  it("gives a per-workspace organization its default plan and no pool of its own", () => {
    const org = organizationRecordArgs(agency);
    expect(org).toMatchObject({ billingMode: "per-workspace", plan: "studio", membershipMode: "single-workspace" });
    expect(org).not.toHaveProperty("creditPool");
  });

  it("keys a person by the email's comparison key and keeps the email as declared", () => {
    const text = readFileSync(`${root}/stacks/dev/tenancy.yaml`, "utf8").replace("{ email: ben@acme.test, name: Ben Okafor }", "{ email: Ben@ACME.test, name: Ben Okafor }");
    expect(organizationRecordArgs(model(text)).people["ben@acme.test"]).toEqual({ email: "Ben@ACME.test", name: "Ben Okafor" });
  });

  it("refuses a model without an organization", () => {
    expect(() => organizationRecordArgs({ version: 1, workspaces: [] })).toThrow(/need the declaration's organization/);
  });
});

describe("workspaceRecordArgs", () => {
  it("attributes a rollup workspace to the organization's plan and pool", () => {
    expect(workspaceRecordArgs(dev, ws(dev, "emea-support"))).toEqual({
      organization: "acme",
      slug: "emea-support",
      name: "EMEA Support",
      decommissioned: false,
      exportProfile: { letterhead: "Acme EMEA", accentColour: "#0A84FF", contactBlock: "emea@acme.test" },
      agents: { "aurora-coffee": { name: "Aurora Coffee" }, "aurora-coffee-social": { name: "Aurora Coffee (social)", styleMemoryFrom: "aurora-coffee" } },
      integrations: { slack: { provider: "slack", credentialsSecret: "emeaSlackToken" } },
    });
  });

  it("gives a per-workspace workspace its own subscription (or the default plan) and pool", () => {
    expect(workspaceRecordArgs(agency, ws(agency, "client-bakery"))).toMatchObject({ plan: "studio-plus", creditPool: { monthlyAllowance: 20000 } });
    expect(workspaceRecordArgs(agency, ws(agency, "client-cycles"))).toMatchObject({ plan: "studio", creditPool: { monthlyAllowance: 8000 } });
  });

  it("records the decommissioned flag when asked, and has no export profile when none is declared", () => {
    const internal = workspaceRecordArgs(dev, ws(dev, "internal"), { decommissioned: true });
    expect(internal.decommissioned).toBe(true);
    expect(internal).not.toHaveProperty("exportProfile");
  });
});

describe("workspaceMembersArgs", () => {
  it("maps each member's email key to the role", () => {
    expect(workspaceMembersArgs(dev, ws(dev, "emea-support"))).toEqual({
      organization: "acme",
      workspace: "emea-support",
      members: { "ana@acme.test": "admin", "ben@acme.test": "editor", "dev@partner.test": "viewer" },
    });
  });
});

describe("every builder", () => {
  it("sets no property to undefined", () => {
    for (const m of [dev, agency]) {
      expect(undefinedPaths(organizationRecordArgs(m))).toEqual([]);
      for (const w of m.workspaces) {
        expect(undefinedPaths(workspaceRecordArgs(m, w))).toEqual([]);
        expect(undefinedPaths(workspaceMembersArgs(m, w))).toEqual([]);
      }
    }
  });

  it("gives the same records whatever the order of people, members, agents and integrations", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      for (const m of [dev, agency]) {
        const org = m.organization!;
        const moved: TenancyModel = {
          ...m,
          organization: { ...org, people: shuffled(org.people, seed) },
          workspaces: m.workspaces.map((w) => ({ ...w, members: shuffled(w.members, seed), agents: shuffled(w.agents, seed + 1), integrations: shuffled(w.integrations, seed + 2) })),
        };
        expect(canonical(organizationRecordArgs(moved))).toBe(canonical(organizationRecordArgs(m)));
        m.workspaces.forEach((w, i) => {
          expect(canonical(workspaceRecordArgs(moved, moved.workspaces[i]!))).toBe(canonical(workspaceRecordArgs(m, w)));
          expect(canonical(workspaceMembersArgs(moved, moved.workspaces[i]!))).toBe(canonical(workspaceMembersArgs(m, w)));
        });
      }
    }), { numRuns: 50 });
  });

  it("builds records the providers' checks accept", () => {
    for (const m of [dev, agency]) {
      expect(organizationRecordProblems(organizationRecordArgs(m))).toEqual([]);
      for (const w of m.workspaces) expect(workspaceRecordProblems(workspaceRecordArgs(m, w))).toEqual([]);
      // What the provider checks: the record as the Workspace sends it, members included.
      expect(organizationRecordKind.check(organizationRecordArgs(m))).toEqual([]);
      for (const w of m.workspaces) expect(workspaceRecordKind.check({ ...workspaceRecordArgs(m, w), members: workspaceMembersArgs(m, w).members }), w.slug).toEqual([]);
    }
  });
});

describe("the providers' checks", () => {
  it("name the property at fault", () => {
    const org = { ...organizationRecordArgs(dev), slug: "Acme", creditPool: { monthlyAllowance: -1 } };
    expect(organizationRecordProblems(org).map((p) => p.property)).toEqual(["slug", "creditPool"]);
    const w = workspaceRecordArgs(dev, ws(dev, "emea-support"));
    const bad = { ...w, agents: { ...w.agents, echo: { name: "Echo", styleMemoryFrom: "elsewhere" } } };
    expect(workspaceRecordProblems(bad)).toEqual([{ property: "agents", reason: 'agent "echo" takes style memory from "elsewhere", which is not an agent of workspace "emea-support"' }]);
  });
});
