// Organization under Pulumi mocks (no engine): what it registers, as the engine would receive it.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { organizationRecordArgs } from "../../components/control-plane/args.ts";
import { migrationInputs } from "../../components/control-plane/migrations.ts";
import { CONTROL_SCHEMA } from "../../components/naming.ts";
import { ORGANIZATION_TYPE } from "../../components/organization.ts";
import {
  CONTROL_PLANE_TYPE, ORGANIZATION_RECORD_TYPE, WORKSPACE_BOUNDARY_TYPE, WORKSPACE_CREDENTIALS_TYPE, WORKSPACE_RECORD_TYPE,
} from "../../components/resources.ts";
import { WORKSPACE_TYPE } from "../../components/workspace.ts";
import { WORKSPACE_SECRETS_TYPE } from "../../components/workspace-secrets.ts";
import {
  declaration, deployOrganization, isSecretValue, MASTER_KEY, plainInputs, reveal, SECRET_CONFIG, settle, startMocks, subtree,
  type Deployed, type Registration,
} from "./mock-harness.ts";

const PROVIDER_TYPE = "pulumi:providers:tenancy";
const recorder = await startMocks({ secretConfig: SECRET_CONFIG });
const dev = await deployOrganization(recorder, declaration("dev"));
const agency = await deployOrganization(recorder, declaration("agency"));

const line = (r: Registration) => `${r.type} ${r.name}`;
const ofType = (d: Deployed, type: string) => d.regs.filter((r) => r.type === type);
const childrenOf = (d: Deployed, r: Registration) => d.regs.filter((c) => c.parent === r.urn);
/** What a custom resource names as its provider: `<urn>::<id>`. */
const providerRef = (d: Deployed) => `${d.named(`${d.root.name}-provider`).urn}::${d.root.name}-provider-id`;

/** A deployment keyed by URN, each resource reduced to what the engine diffs and orders by. */
function summary(d: Deployed): Record<string, unknown> {
  return Object.fromEntries(d.regs.map((r) => [r.urn, { parent: r.parent, protect: r.protect, provider: r.provider, inputs: r.inputs, dependencies: [...r.dependencies].sort() }]));
}

/** Component outputs with every list read as a set. */
function unorderedOutputs(d: Deployed): unknown {
  return JSON.parse(JSON.stringify(Object.fromEntries(d.outputs), (_k, v: unknown) => (Array.isArray(v) ? v.map((x) => JSON.stringify(x)).sort() : v)));
}

/** Runs a deployment expected to throw; returns the error and what was registered meanwhile. */
async function refused(run: () => Promise<unknown>): Promise<{ error: unknown; registered: string[] }> {
  const before = recorder.registered.length;
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  await settle();
  return { error, registered: recorder.registered.slice(before).map((r) => r.type) };
}

describe("Organization", () => {
  it("registers one tenancy provider, one control plane, one organization record and one Workspace per declared workspace, directly under it", () => {
    expect(dev.root).toMatchObject({ type: ORGANIZATION_TYPE, name: "acme", parent: "" });
    expect(childrenOf(dev, dev.root).map(line).sort()).toEqual([
      `${PROVIDER_TYPE} acme-provider`,
      `${ORGANIZATION_RECORD_TYPE} acme-record`,
      `${CONTROL_PLANE_TYPE} acme-control-plane`,
      `${WORKSPACE_TYPE} acme-emea-support`,
      `${WORKSPACE_TYPE} acme-internal`,
      `${WORKSPACE_TYPE} acme-us-sales`,
    ].sort());
    for (const d of [dev, agency]) {
      expect(ofType(d, ORGANIZATION_TYPE)).toHaveLength(1);
      expect(ofType(d, PROVIDER_TYPE)).toHaveLength(1);
      expect(ofType(d, CONTROL_PLANE_TYPE)).toHaveLength(1);
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

  it("configures its tenancy provider with the admin connection and the master key, both secrets", () => {
    const provider = dev.named("acme-provider");
    expect(provider).toMatchObject({ custom: true, parent: dev.root.urn });
    expect(isSecretValue(provider.inputs.password)).toBe(true);
    expect(isSecretValue(provider.inputs.credentialsMasterKey)).toBe(true);
    expect(plainInputs(provider)).toEqual({ host: "db.internal", port: "5432", user: "tenancy_admin", database: "tenancy", password: "admin-password", credentialsMasterKey: MASTER_KEY });
    // The admin password and the master key are in the provider's configuration and nowhere else.
    const others = dev.regs.filter((r) => r !== provider);
    expect(JSON.stringify(others.map((r) => r.inputs))).not.toContain("admin-password");
    expect(JSON.stringify(others.map((r) => r.inputs))).not.toContain(MASTER_KEY);
    expect(others.filter((r) => "connection" in r.inputs).map((r) => r.name)).toEqual([]);
  });

  it("sends every tenancy resource through that provider, and no AWS resource", async () => {
    const inAws = await deployOrganization(recorder, declaration("dev"), { aws: true });
    for (const d of [dev, agency, inAws]) {
      const tenancy = d.regs.filter((r) => r.custom && r.type.startsWith("tenancy:"));
      expect(tenancy.length).toBeGreaterThan(0);
      for (const r of tenancy) expect(r.provider, r.name).toBe(providerRef(d));
    }
    const aws = inAws.regs.filter((r) => r.type.startsWith("aws:"));
    expect(aws.length).toBeGreaterThan(0);
    for (const r of aws) expect(r.provider.startsWith(inAws.named("acme-provider").urn), r.name).toBe(false);
  });

  it("migrates the control plane in the admin connection's database, named in clear", () => {
    expect(plainInputs(dev.named("acme-control-plane"))).toEqual({ schema: CONTROL_SCHEMA, database: "tenancy", migrations: migrationInputs() });
    expect(isSecretValue(dev.named("acme-control-plane").inputs.database)).toBe(false);
  });

  it("orders the organization record after the control plane", () => {
    expect(dev.named("acme-record").dependencies).toEqual([dev.named("acme-control-plane").urn]);
    expect(dev.named("acme-control-plane").dependencies).toEqual([]);
  });

  it("leaves the organization-level resources unprotected, even when every workspace is protected", () => {
    for (const name of ["acme", "acme-provider", "acme-control-plane", "acme-record"]) expect(dev.named(name).protect, name).toBe(false);
    // `__protect` is internal too: what children inherit when they set no `protect` of their own.
    expect((dev.org as any).__protect).toBeFalsy();
    expect((dev.org.record as any).__protect).toBeFalsy();
    expect((dev.org.provider as any).__protect).toBeFalsy();
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

  it("refuses to build without tenancy:credentialsMasterKey, before registering anything", async () => {
    const { error, registered } = await refused(() => deployOrganization(recorder, declaration("dev"), { credentialsMasterKey: undefined }));
    expect(error).toBeInstanceOf(pulumi.InputPropertyError);
    expect(error).toMatchObject({ propertyPath: "credentialsMasterKey", reason: expect.stringContaining("tenancy:credentialsMasterKey") });
    // Only the Organization component itself: no provider, no record, no workspace boundary.
    expect(registered).toEqual([ORGANIZATION_TYPE]);
  });

  it("needs the master key even with no integrations, or with AWS holding the credentials: app passwords derive from it", async () => {
    const bare = declaration("dev", (doc) => { for (const ws of doc.workspaces) delete ws.integrations; });
    for (const run of [
      () => deployOrganization(recorder, bare, { credentialsMasterKey: undefined }),
      () => deployOrganization(recorder, declaration("dev"), { aws: true, credentialsMasterKey: undefined }),
    ]) {
      const { error, registered } = await refused(run);
      expect(error).toMatchObject({ propertyPath: "credentialsMasterKey", reason: expect.stringContaining("app-role passwords") });
      expect(registered).toEqual([ORGANIZATION_TYPE]);
    }
  });

  it("refuses an integration whose secret config value is not set, naming it, before registering anything", async () => {
    const missing = declaration("dev", (doc) => { doc.workspaces[1].integrations[1].credentialsSecret = "nowhere:driveToken"; });
    const { error, registered } = await refused(() => deployOrganization(recorder, missing));
    expect(error).toBeInstanceOf(pulumi.InputPropertyError);
    expect(error).toMatchObject({ propertyPath: "model.workspaces[1].integrations[1].credentialsSecret", reason: expect.stringContaining('"nowhere:driveToken" is not set') });
    expect(registered).toEqual([ORGANIZATION_TYPE]);
  });

  it("reads the stack's config once per organization, however many integrations read a secret from it", async () => {
    // pulumi.Config parses the whole config on every read: one read per integration grew with the square.
    const integrations = declaration("dev").workspaces.reduce((n, w) => n + w.integrations.length, 0);
    expect(integrations).toBeGreaterThan(1);
    const reads = vi.spyOn(pulumi.runtime, "allConfig");
    try {
      const again = await deployOrganization(recorder, declaration("dev"));
      expect(reads).toHaveBeenCalledTimes(1);
      // Still each integration's own value, as a secret.
      const credentials = ofType(again, WORKSPACE_CREDENTIALS_TYPE).find((r) => Object.keys((r.inputs as { integrations: object }).integrations).length > 0)!;
      const values = Object.values((credentials.inputs as { integrations: Record<string, { value: unknown }> }).integrations).map((i) => i.value);
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) expect(isSecretValue(v)).toBe(true);
    } finally {
      reads.mockRestore();
    }
  });

  it("counts, per workspace of the dev stack: 4 without AWS, integrations or not; with AWS 3 without integrations, 7 plus two per integration", async () => {
    const inAws = await deployOrganization(recorder, declaration("dev"), { aws: true });
    const perWorkspace = (d: Deployed) => Object.fromEntries(ofType(d, WORKSPACE_TYPE).map((w) => [w.name, subtree(d.regs, w.urn).map((r) => r.type).sort()]));
    // Workspace + boundary + record; without AWS one WorkspaceCredentials for all its
    // integrations (none included: removing the last one is then an update); with AWS a WorkspaceSecrets with a key, alias and policy and a secret and
    // version per integration (emea-support has 1 integration, us-sales 2, internal none).
    const base = [WORKSPACE_TYPE, WORKSPACE_BOUNDARY_TYPE, WORKSPACE_RECORD_TYPE];
    const aws = (integrations: number) => [WORKSPACE_SECRETS_TYPE, "aws:kms/key:Key", "aws:kms/alias:Alias", "aws:iam/policy:Policy",
      ...Array.from({ length: integrations }, () => ["aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretVersion:SecretVersion"]).flat()];
    expect(perWorkspace(dev)).toEqual({
      "acme-emea-support": [...base, WORKSPACE_CREDENTIALS_TYPE].sort(), "acme-us-sales": [...base, WORKSPACE_CREDENTIALS_TYPE].sort(), "acme-internal": [...base, WORKSPACE_CREDENTIALS_TYPE].sort(),
    });
    expect(perWorkspace(inAws)).toEqual({ "acme-emea-support": [...base, ...aws(1)].sort(), "acme-us-sales": [...base, ...aws(2)].sort(), "acme-internal": [...base].sort() });
    // Organization, provider, control plane and record, then the workspaces.
    expect([dev.regs.length, inAws.regs.length]).toEqual([4 + 4 + 4 + 4, 4 + 9 + 11 + 3]);
    expect(ofType(dev, WORKSPACE_CREDENTIALS_TYPE)).toHaveLength(3);
    expect(ofType(inAws, WORKSPACE_CREDENTIALS_TYPE)).toEqual([]);
  });
});
