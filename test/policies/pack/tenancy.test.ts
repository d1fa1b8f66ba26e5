import { describe, expect, it } from "vitest";
import { ORGANIZATION_TYPE } from "../../../components/organization.ts";
import { WORKSPACE_TYPE } from "../../../components/workspace.ts";
import { GRANT_TYPE, ORGANIZATION_RECORD_TYPE, WORKSPACE_BOUNDARY_TYPE, WORKSPACE_RECORD_TYPE } from "../../../components/resources.ts";
import { WORKSPACE_SECRETS_TYPE } from "../../../components/workspace-secrets.ts";
import { rules } from "../../../policies/rules/index.ts";
import { policies } from "../../../policies/pack.ts";
import { rebuildModels } from "../../../policies/model-from-resources.ts";
import { Token } from "../../../policies/tokens.ts";
import { changed, stackModel, stackSpecs } from "./fixtures.ts";
import { runPack, summary, urnOf, type Spec } from "./harness.ts";

const dev = stackSpecs(stackModel("dev"));
const props = (spec: Spec) => spec.props ?? {};

describe("the tenancy policies", () => {
  it("uses the components' type tokens", () => {
    expect([Token.Organization, Token.Workspace, Token.WorkspaceSecrets, Token.OrganizationRecord, Token.WorkspaceRecord, Token.WorkspaceBoundary, Token.PgGrant])
      .toEqual([ORGANIZATION_TYPE, WORKSPACE_TYPE, WORKSPACE_SECRETS_TYPE, ORGANIZATION_RECORD_TYPE, WORKSPACE_RECORD_TYPE, WORKSPACE_BOUNDARY_TYPE, GRANT_TYPE]);
  });

  it("has one policy per declaration rule, named by its id, all mandatory, described as checks", () => {
    const names = policies.map((p) => p.name);
    for (const rule of rules.filter((r) => r.needs !== "change")) expect(names).toContain(rule.id);
    expect(new Set(names).size).toBe(names.length);
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(p.description).toMatch(/^Checks that /);
      expect(p.enforcementLevel).toBe("mandatory");
      expect(p.severity).toBeDefined();
      expect(p.remediationSteps).toBeTruthy();
    }
  });

  it("rebuilds the declaration's model from the resources", () => {
    const [rebuilt, ...rest] = rebuildModels(dev.map((s) => ({ ...s, urn: urnOf(dev, s), props: props(s), opts: {} })).map((r, _, all) => ({ ...r, parent: undefined, opts: { parent: r.parent ? all.find((x) => x.name === r.parent)!.urn : undefined } })) as never);
    expect(rest).toEqual([]);
    const model = stackModel("dev");
    expect(rebuilt!.model.organization).toEqual({ ...model.organization, people: model.organization!.people.map((p) => ({ ...p })) });
    expect(rebuilt!.model.workspaces.map((w) => w.slug)).toEqual(model.workspaces.map((w) => w.slug));
    // The Workspace registers the connection limit it resolved (its own, the organization's, or 20).
    expect(rebuilt!.model.workspaces[0]).toEqual({ ...model.workspaces[0], connectionLimit: 20 });
  });

  it("passes the dev stack and the agency stack, with PostgreSQL or AWS credentials", async () => {
    expect(summary(await runPack(dev))).toEqual([]);
    expect(summary(await runPack(stackSpecs(stackModel("agency"))))).toEqual([]);
    expect(summary(await runPack(stackSpecs(stackModel("dev"), { aws: true })))).toEqual([]);
  });

  it("reports a rule violation under the rule's id, at the workspace's URN", async () => {
    // ben@acme.test is us-sales' only admin: make him an editor.
    const broken = changed(dev, "acme-us-sales-record", (s) => ({ ...s, props: { ...props(s), members: { "ben@acme.test": "editor", "chloe@acme.test": "editor" } } }));
    const reported = await runPack(broken);
    expect(summary(reported)).toEqual(["workspace-has-admin acme-us-sales"]);
    expect(reported[0]!.message).toMatch(/workspace "us-sales" must have/);
    expect(reported[0]!.urn).toBe("urn:pulumi:test::tenancy::tenancy:index:Organization$tenancy:index:Workspace::acme-us-sales");
  });

  it("reports organization-level rules at the Organization", async () => {
    const broken = changed(dev, "acme-record", (s) => ({ ...s, props: { ...props(s), creditPool: undefined } }));
    expect(summary(await runPack(broken))).toEqual(["billing-rollup acme"]);
  });

  it("reports a workspace under a workspace as no-nested-workspaces, at the nested one", async () => {
    const nested: Spec = { type: Token.Workspace, name: "acme-inner", parent: "acme-internal", protect: true, props: { slug: "inner", organization: "acme", decommissioned: false, members: {}, integrations: {} } };
    expect(summary(await runPack([...dev, nested]))).toEqual(["no-nested-workspaces acme-inner"]);
  });

  it("reports a workspace outside any organization as workspace-requires-organization", async () => {
    const stray: Spec = { type: Token.Workspace, name: "stray", parent: "tenancy-test", protect: true, props: { slug: "stray", organization: "acme", decommissioned: false, members: { "ana@acme.test": "admin" }, integrations: {} } };
    expect(summary(await runPack([...dev, stray]))).toEqual(["workspace-requires-organization stray"]);
  });

  it("lets the pack's config make a policy advisory or disable it", async () => {
    const broken = changed(dev, "acme-record", (s) => ({ ...s, props: { ...props(s), creditPool: undefined } }));
    expect((await runPack(broken, { "billing-rollup": { enforcementLevel: "advisory" } })).map((r) => r.level)).toEqual(["advisory"]);
    expect(await runPack(broken, { "billing-rollup": { enforcementLevel: "disabled" } })).toEqual([]);
  });

  it("checks the deployment modes the pack is configured for", async () => {
    expect(await runPack(dev, { "deployment-modes": { billingMode: "rollup", membershipMode: "multi-workspace" } })).toEqual([]);
    const reported = await runPack(dev, { "deployment-modes": { billingMode: "per-workspace" } });
    expect(summary(reported)).toEqual(["deployment-modes acme"]);
    expect(reported[0]!.message).toBe('organization "acme" must bill in "per-workspace" mode, as this deployment is configured; got "rollup"');
  });

  it("requires deletion protection on every workspace resource until it is decommissioned", async () => {
    const unprotected = changed(dev, "acme-internal-boundary", (s) => ({ ...s, protect: false }));
    expect(summary(await runPack(unprotected))).toEqual(["workspace-deletion-protected acme-internal-boundary"]);
    const credentials = changed(dev, "acme-us-sales-credentials", (s) => ({ ...s, protect: false }));
    expect(summary(await runPack(credentials))).toEqual(["workspace-deletion-protected acme-us-sales-credentials"]);
    const leaving = unprotected.map((s) => (s.name === "acme-internal" ? { ...s, props: { ...props(s), decommissioned: true } } : s));
    expect(summary(await runPack(leaving))).toEqual([]);
  });
});

describe("billing as the Workspace registers it", () => {
  it("judges a rollup workspace's own pool when the Workspace registers the declared one", async () => {
    const declared = changed(dev, "acme-internal", (s) => ({ ...s, props: { ...props(s), creditPool: { monthlyAllowance: 10 } } }));
    expect(summary(await runPack(declared))).toEqual(["billing-rollup acme-internal"]);
  });
});
