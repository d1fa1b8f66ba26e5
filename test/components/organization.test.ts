// Organization under Pulumi mocks (no engine): what it registers, as the engine would receive it.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { organizationRecordArgs } from "../../components/control-plane/args.ts";
import { ORGANIZATION_TYPE } from "../../components/organization.ts";
import { CONTROL_PLANE_SCHEMA_TYPE } from "../../components/providers/control-plane-schema.ts";
import { ORGANIZATION_RECORD_TYPE } from "../../components/providers/control-plane-organization.ts";
import { WORKSPACE_TYPE } from "../../components/workspace.ts";
import {
  declaration, deployOrganization, isSecretValue, plainInputs, reveal, SECRET_CONFIG, settle, startMocks, subtree,
  type Deployed, type Registration,
} from "./mock-harness.ts";

const recorder = await startMocks({ secretConfig: SECRET_CONFIG });
const dev = await deployOrganization(recorder, declaration("dev"));
const agency = await deployOrganization(recorder, declaration("agency"));

const line = (r: Registration) => `${r.type} ${r.name}`;
const ofType = (d: Deployed, type: string) => d.regs.filter((r) => r.type === type);
const childrenOf = (d: Deployed, r: Registration) => d.regs.filter((c) => c.parent === r.urn);

/** A deployment keyed by URN, each resource reduced to what the engine diffs and orders by. */
function summary(d: Deployed): Record<string, unknown> {
  return Object.fromEntries(d.regs.map((r) => [r.urn, { parent: r.parent, protect: r.protect, inputs: r.inputs, dependencies: [...r.dependencies].sort() }]));
}

/** Component outputs with every list read as a set. */
function unorderedOutputs(d: Deployed): unknown {
  return JSON.parse(JSON.stringify(Object.fromEntries(d.outputs), (_k, v: unknown) => (Array.isArray(v) ? v.map((x) => JSON.stringify(x)).sort() : v)));
}

describe("Organization", () => {
  it("registers one control-plane schema, one organization record and one Workspace per declared workspace, directly under it", () => {
    expect(dev.root).toMatchObject({ type: ORGANIZATION_TYPE, name: "acme", parent: "" });
    expect(childrenOf(dev, dev.root).map(line).sort()).toEqual([
      `${CONTROL_PLANE_SCHEMA_TYPE} acme-control-plane`,
      `${ORGANIZATION_RECORD_TYPE} acme-record`,
      `${WORKSPACE_TYPE} acme-emea-support`,
      `${WORKSPACE_TYPE} acme-internal`,
      `${WORKSPACE_TYPE} acme-us-sales`,
    ]);
    for (const d of [dev, agency]) {
      expect(ofType(d, ORGANIZATION_TYPE)).toHaveLength(1);
      expect(ofType(d, CONTROL_PLANE_SCHEMA_TYPE)).toHaveLength(1);
      expect(ofType(d, ORGANIZATION_RECORD_TYPE)).toHaveLength(1);
    }
    expect(ofType(agency, WORKSPACE_TYPE).map((r) => r.name).sort()).toEqual(["northstar-client-bakery", "northstar-client-cycles"]);
    expect(dev.org.workspaces.map((w) => w.slug)).toEqual(["emea-support", "us-sales", "internal"]);
  });

  it("parents every Workspace to the Organization, in the request and on the resource object", () => {
    for (const d of [dev, agency]) {
      for (const ws of ofType(d, WORKSPACE_TYPE)) expect(ws.parent, ws.name).toBe(d.root.urn);
      // `__parentResource` is Pulumi's internal link (resource.js); no public API exposes a parent.
      for (const w of d.org.workspaces) expect((w as any).__parentResource).toBe(d.org);
    }
  });

  it("fills the organization record from organizationRecordArgs: slug, billing mode, the directory keyed by email", () => {
    const record = dev.named("acme-record");
    expect(plainInputs(record)).toEqual(organizationRecordArgs(declaration("dev")));
    expect(record.inputs).toMatchObject({ slug: "acme", billingMode: "rollup", plan: "agency", creditPool: { monthlyAllowance: 100000 } });
    expect(Object.keys(record.inputs.people as object).sort()).toEqual(["ana@acme.test", "ben@acme.test", "chloe@acme.test", "dev@partner.test"]);
    expect((record.inputs.people as Record<string, unknown>)["ana@acme.test"]).toEqual({ email: "ana@acme.test", name: "Ana Ruiz", orgRole: "admin" });

    const perWorkspace = agency.named("northstar-record").inputs;
    expect(plainInputs(agency.named("northstar-record"))).toEqual(organizationRecordArgs(declaration("agency")));
    expect(perWorkspace).toMatchObject({ slug: "northstar", billingMode: "per-workspace", plan: "studio", membershipMode: "single-workspace" });
    expect(perWorkspace).not.toHaveProperty("creditPool");
  });

  it("keys a person by the normalised email and keeps the email as declared", async () => {
    const mixed = await deployOrganization(recorder, declaration("dev", (doc) => { doc.organization.people[1].email = "Ben@ACME.test"; }));
    const people = mixed.named("acme-record").inputs.people as Record<string, { email: string }>;
    expect(people["ben@acme.test"]).toEqual({ email: "Ben@ACME.test", name: "Ben Okafor" });
    expect(Object.keys(people)).not.toContain("Ben@ACME.test");
  });

  it("passes the admin connection to the control plane as a secret", () => {
    for (const name of ["acme-control-plane", "acme-record"]) {
      const r = dev.named(name);
      expect(isSecretValue(r.inputs.connection), name).toBe(true);
      expect(reveal(r.inputs.connection)).toMatchObject({ host: "db.internal", user: "tenancy_admin", password: "admin-password" });
      expect(r.secretOutputs).toContain("connection");
    }
    expect(JSON.stringify(plainInputs(dev.named("acme-record")))).not.toContain("admin-password");
  });

  it("orders the organization record after the control-plane schema", () => {
    expect(dev.named("acme-record").dependencies).toEqual([dev.named("acme-control-plane").urn]);
    expect(dev.named("acme-control-plane").dependencies).toEqual([]);
  });

  it("leaves the organization-level resources unprotected, even when every workspace is protected", () => {
    for (const name of ["acme", "acme-control-plane", "acme-record"]) expect(dev.named(name).protect, name).toBe(false);
    // `__protect` is internal too: what children inherit when they set no `protect` of their own.
    expect((dev.org as any).__protect).toBeFalsy();
    expect((dev.org.record as any).__protect).toBeFalsy();
    expect(ofType(dev, WORKSPACE_TYPE).every((r) => r.protect)).toBe(true);
  });

  it("registers its slug, billing mode, membership mode and workspace slugs as outputs", () => {
    expect(dev.outputsOf("acme")).toEqual({ slug: "acme", billingMode: "rollup", membership: "multi-workspace", workspaces: ["emea-support", "internal", "us-sales"] });
    expect(agency.outputsOf("northstar")).toEqual({ slug: "northstar", billingMode: "per-workspace", membership: "single-workspace", workspaces: ["client-bakery", "client-cycles"] });
  });

  it("registers the same resources with the same inputs whatever the order of workspaces, people, members and integrations", async () => {
    const reordered = await deployOrganization(recorder, declaration("dev", (doc) => {
      doc.workspaces.reverse();
      doc.organization.people.reverse();
      for (const ws of doc.workspaces) { ws.members.reverse(); ws.integrations?.reverse(); }
    }));
    const [before, after] = [summary(dev), summary(reordered)];
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(after).toEqual(before);
    // The components' outputs do not depend on the declaration's order either.
    expect(unorderedOutputs(reordered)).toEqual(unorderedOutputs(dev));
    expect(reordered.outputsOf("acme").workspaces).toEqual(dev.outputsOf("acme").workspaces);
  });

  it("refuses to build without tenancy:credentialsMasterKey when a workspace has integrations and AWS is off, before registering anything", async () => {
    let error: unknown;
    const before = recorder.registered.length;
    try {
      await deployOrganization(recorder, declaration("dev"), { credentialsMasterKey: undefined });
    } catch (e) {
      error = e;
    }
    await settle();
    expect(error).toBeInstanceOf(pulumi.InputPropertyError);
    expect(error).toMatchObject({ propertyPath: "credentialsMasterKey", reason: expect.stringContaining("tenancy:credentialsMasterKey") });
    expect((error as pulumi.InputPropertyError).reason).toContain('workspaces "emea-support", "us-sales" have integrations');
    // Only the Organization component itself: no record, no schema, no workspace boundary.
    expect(recorder.registered.slice(before).map((r) => r.type)).toEqual([ORGANIZATION_TYPE]);
  });

  it("needs no master key when no workspace has integrations, or when AWS holds the credentials", async () => {
    const bare = await deployOrganization(recorder, declaration("dev", (doc) => { for (const ws of doc.workspaces) delete ws.integrations; }), { credentialsMasterKey: undefined });
    expect(ofType(bare, WORKSPACE_TYPE)).toHaveLength(3);
    expect(bare.regs.filter((r) => r.type.endsWith("WorkspaceSecrets"))).toEqual([]);
    const inAws = await deployOrganization(recorder, declaration("dev"), { aws: true, credentialsMasterKey: undefined });
    expect(ofType(inAws, WORKSPACE_TYPE)).toHaveLength(3);
  });

  it("counts, per workspace of the dev stack: 19 resources without integrations; 20 plus one per integration without AWS; 23 plus two per integration with AWS", async () => {
    const inAws = await deployOrganization(recorder, declaration("dev"), { aws: true });
    const perWorkspace = (d: Deployed) => Object.fromEntries(ofType(d, WORKSPACE_TYPE).map((w) => [w.name, subtree(d.regs, w.urn).length]));
    // Workspace + WorkspaceDatabase (5 + 10 grants) + record + members = 19; WorkspaceSecrets adds
    // itself and a LocalCredential per integration, or a key, alias and policy and a secret and version per integration.
    expect(perWorkspace(dev)).toEqual({ "acme-emea-support": 21, "acme-us-sales": 22, "acme-internal": 19 });
    expect(perWorkspace(inAws)).toEqual({ "acme-emea-support": 25, "acme-us-sales": 27, "acme-internal": 19 });
    expect([dev.regs.length, inAws.regs.length]).toEqual([65, 74]);
  });
});
