// Workspace under Pulumi mocks (no engine): its children, their protection, ordering, members,
// credentials and secrets, as the engine would receive them.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { workspaceMembersArgs, workspaceRecordArgs } from "../../components/control-plane/args.ts";
import { deriveWorkspaceKey } from "../../components/credentials-crypto.ts";
import { workspaceNames } from "../../components/naming.ts";
import { WORKSPACE_TYPE, Workspace } from "../../components/workspace.ts";
import { WORKSPACE_DATABASE_TYPE } from "../../components/workspace-database.ts";
import { WORKSPACE_SECRETS_TYPE } from "../../components/workspace-secrets.ts";
import {
  declaration, deployOrganization, isSecretValue, MASTER_KEY, plainInputs, POSTGRES, reveal, SECRET_CONFIG, settle, startMocks,
  subtree, valueOf, type Deployed, type Registration,
} from "./mock-harness.ts";

const dynamic = (t: string) => `pulumi-nodejs:dynamic/tenancy:${t}`;
const recorder = await startMocks({ secretConfig: SECRET_CONFIG });
const devModel = declaration("dev");
const dev = await deployOrganization(recorder, devModel);
const aws = await deployOrganization(recorder, declaration("dev"), { aws: true, credentialsMasterKey: undefined });

const line = (r: Registration) => `${r.type} ${r.name}`;
const inWorkspace = (d: Deployed, name: string) => subtree(d.regs, d.named(name).urn);
const workspaceOf = (d: Deployed, slug: string) => d.org.workspaces.find((w) => w.slug === slug)!;

/** Every resource object under `res`, via Pulumi's internal `__childResources` (no public API lists children). */
function descendants(res: pulumi.Resource): pulumi.Resource[] {
  const children = [...((res as any).__childResources ?? []) as Set<pulumi.Resource>];
  return children.flatMap((c) => [c, ...descendants(c)]);
}

describe("Workspace", () => {
  it("names its children ${name}-database, -record, -members and, with integrations, -secrets", () => {
    const direct = (name: string) => dev.regs.filter((r) => r.parent === dev.named(name).urn).map(line).sort();
    const common = (n: string) => [`${dynamic("WorkspaceMembers")} ${n}-members`, `${dynamic("WorkspaceRecord")} ${n}-record`, `${WORKSPACE_DATABASE_TYPE} ${n}-database`];
    expect(direct("acme-emea-support")).toEqual([...common("acme-emea-support"), `${WORKSPACE_SECRETS_TYPE} acme-emea-support-secrets`].sort());
    expect(direct("acme-us-sales")).toEqual([...common("acme-us-sales"), `${WORKSPACE_SECRETS_TYPE} acme-us-sales-secrets`].sort());
    expect(direct("acme-internal")).toEqual(common("acme-internal").sort());
    expect(dev.named("acme-emea-support").type).toBe(WORKSPACE_TYPE);
  });

  it("keeps the ${name}-<role> convention at every depth and never names a resource by array index", () => {
    for (const d of [dev, aws]) {
      const byUrn = new Map(d.regs.map((r) => [r.urn, r]));
      for (const ws of d.regs.filter((r) => r.type === WORKSPACE_TYPE)) {
        for (const r of inWorkspace(d, ws.name).filter((r) => r !== ws)) {
          expect(r.name.startsWith(`${byUrn.get(r.parent)!.name}-`), r.name).toBe(true);
          expect(r.name, r.name).not.toMatch(/(^|-)\d+(-|$)/);
        }
      }
    }
    expect(inWorkspace(dev, "acme-emea-support-secrets").map((r) => r.name)).toEqual(["acme-emea-support-secrets", "acme-emea-support-secrets-slack-credential"]);
    expect(inWorkspace(dev, "acme-us-sales-secrets").map((r) => r.name).sort()).toEqual(["acme-us-sales-secrets", "acme-us-sales-secrets-drive-credential", "acme-us-sales-secrets-hubspot-credential"]);
  });

  it("protects everything under a workspace, in the requests and on the resource objects", () => {
    for (const d of [dev, aws]) {
      for (const w of d.org.workspaces) {
        const regs = inWorkspace(d, `acme-${w.slug}`);
        expect(regs.filter((r) => !r.protect).map((r) => r.name)).toEqual([]);
        // `__protect` is internal: the flag each resource was constructed with.
        expect(descendants(w).filter((c) => (c as any).__protect !== true)).toEqual([]);
        expect(descendants(w)).toHaveLength(regs.length - 1);
      }
    }
  });

  it("protects nothing under a decommissioned workspace, and still everything under the others", async () => {
    const model = declaration("dev", (doc) => { doc.workspaces[0].decommissioned = true; });
    for (const d of [await deployOrganization(recorder, model), await deployOrganization(recorder, model, { aws: true })]) {
      const retiring = inWorkspace(d, "acme-emea-support");
      expect(retiring.length).toBeGreaterThan(20);
      expect(retiring.filter((r) => r.protect).map((r) => r.name)).toEqual([]);
      expect(descendants(workspaceOf(d, "emea-support")).filter((c) => (c as any).__protect)).toEqual([]);
      expect([...inWorkspace(d, "acme-us-sales"), ...inWorkspace(d, "acme-internal")].every((r) => r.protect)).toBe(true);
      expect(d.named("acme-emea-support-record").inputs.decommissioned).toBe(true);
      expect(d.outputsOf("acme-emea-support").decommissioned).toBe(true);
    }
  });

  it("orders each workspace's record after the organization record, and its members after both", () => {
    const orgRecord = dev.named("acme-record").urn;
    for (const slug of ["emea-support", "us-sales", "internal"]) {
      const record = dev.named(`acme-${slug}-record`);
      expect(record.dependencies).toEqual([orgRecord]);
      expect([...dev.named(`acme-${slug}-members`).dependencies].sort()).toEqual([record.urn, orgRecord].sort());
    }
  });

  it("seals credentials only once the workspace's schema and roles exist", () => {
    const database = inWorkspace(dev, "acme-us-sales-database").filter((r) => r.custom).map((r) => r.urn);
    for (const slug of ["hubspot", "drive"]) {
      expect([...dev.named(`acme-us-sales-secrets-${slug}-credential`).dependencies].sort()).toEqual([...database].sort());
    }
  });

  it("fills the workspace record from workspaceRecordArgs, integrations by slug with the secret's name only", () => {
    for (const ws of devModel.workspaces) {
      expect(plainInputs(dev.named(`acme-${ws.slug}-record`))).toEqual(workspaceRecordArgs(devModel, ws, { decommissioned: false }));
    }
    expect(dev.named("acme-us-sales-record").inputs.integrations).toEqual({
      hubspot: { provider: "hubspot", credentialsSecret: "usHubspotOauth" }, drive: { provider: "google-drive", credentialsSecret: "usDriveOauth" },
    });
  });

  it("declares the members keyed by normalised email, with their roles", async () => {
    expect(plainInputs(dev.named("acme-emea-support-members"))).toEqual({
      organization: "acme", workspace: "emea-support", members: { "ana@acme.test": "admin", "ben@acme.test": "editor", "dev@partner.test": "viewer" },
    });
    for (const ws of devModel.workspaces) expect(plainInputs(dev.named(`acme-${ws.slug}-members`))).toEqual(workspaceMembersArgs(devModel, ws));
    const mixed = await deployOrganization(recorder, declaration("dev", (doc) => { doc.workspaces[0].members[0].email = "Ana@ACME.Test"; }));
    expect(mixed.named("acme-emea-support-members").inputs.members).toEqual(dev.named("acme-emea-support-members").inputs.members);
    expect(mixed.outputsOf("acme-emea-support").members).toEqual(dev.outputsOf("acme-emea-support").members);
  });

  it("changes only that member's key when a role changes, and nothing else", async () => {
    const changed = await deployOrganization(recorder, declaration("dev", (doc) => { doc.workspaces[0].members[1].role = "viewer"; }));
    const differing = dev.regs.filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(changed.named(r.name).inputs)).map((r) => r.name);
    expect(differing).toEqual(["acme-emea-support-members"]);
    expect(changed.named("acme-emea-support-members").inputs.members).toEqual({
      ...(dev.named("acme-emea-support-members").inputs.members as object), "ben@acme.test": "viewer",
    });
    expect(changed.outputsOf("acme-emea-support").members).toEqual({ ...(dev.outputsOf("acme-emea-support").members as object), "ben@acme.test": "viewer" });
  });

  it("without AWS, seals one LocalCredential per integration under the workspace's derived key", async () => {
    const credentials = dev.regs.filter((r) => r.type === dynamic("LocalCredential"));
    expect(credentials.map((r) => r.name).sort()).toEqual([
      "acme-emea-support-secrets-slack-credential", "acme-us-sales-secrets-drive-credential", "acme-us-sales-secrets-hubspot-credential",
    ]);
    expect(dev.regs.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    const names = workspaceNames("acme", "us-sales");
    const key = await deriveWorkspaceKey(MASTER_KEY, "acme", "us-sales");
    const drive = dev.named("acme-us-sales-secrets-drive-credential").inputs;
    expect(drive).toMatchObject({ slug: "drive", provider: "google-drive", schema: names.schema, owner: names.owner, app: names.app });
    for (const field of ["value", "key", "connection"]) expect(isSecretValue(drive[field]), field).toBe(true);
    expect(reveal(drive.value)).toBe(SECRET_CONFIG["tenancy:usDriveOauth"]);
    expect(reveal(drive.key)).toBe(key);
    expect(await pulumi.isSecret(workspaceOf(dev, "us-sales").credentialsKey)).toBe(true);
    expect(await valueOf(workspaceOf(dev, "us-sales").credentialsKey)).toBe(key);
    expect(await valueOf(workspaceOf(dev, "internal").credentialsKey)).toBeUndefined();
  });

  it("with AWS, makes a KMS key, alias and read policy per workspace and a secret per integration, and no LocalCredential", async () => {
    expect(inWorkspace(aws, "acme-us-sales-secrets").filter((r) => r.custom).map(line).sort()).toEqual([
      "aws:iam/policy:Policy acme-us-sales-secrets-read-policy",
      "aws:kms/alias:Alias acme-us-sales-secrets-alias",
      "aws:kms/key:Key acme-us-sales-secrets-key",
      "aws:secretsmanager/secret:Secret acme-us-sales-secrets-drive-secret",
      "aws:secretsmanager/secret:Secret acme-us-sales-secrets-hubspot-secret",
      "aws:secretsmanager/secretVersion:SecretVersion acme-us-sales-secrets-drive-secret-version",
      "aws:secretsmanager/secretVersion:SecretVersion acme-us-sales-secrets-hubspot-secret-version",
    ]);
    expect(aws.regs.filter((r) => r.type === dynamic("LocalCredential"))).toEqual([]);
    expect(inWorkspace(aws, "acme-internal").filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    const version = aws.named("acme-emea-support-secrets-slack-secret-version").inputs;
    expect(isSecretValue(version.secretString)).toBe(true);
    expect(reveal(version.secretString)).toBe(SECRET_CONFIG["tenancy:emeaSlackToken"]);
    expect(aws.named("acme-emea-support-secrets-slack-secret").inputs).toMatchObject({ name: "tenancy/acme/emea-support/slack" });
    expect(await valueOf(workspaceOf(aws, "emea-support").credentialsKey)).toBeUndefined();
  });

  it("refuses integrations without AWS and without the master key, naming tenancy:credentialsMasterKey", async () => {
    const bare = await deployOrganization(recorder, { ...devModel, workspaces: [] });
    const build = (slug: string) => new Workspace(`t-${slug}`, { organization: bare.org, model: devModel, workspace: devModel.workspaces.find((w) => w.slug === slug)!, postgres: POSTGRES });
    let error: unknown;
    try {
      build("us-sales");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(pulumi.InputPropertyError);
    expect(error).toMatchObject({ propertyPath: "credentialsMasterKey", reason: expect.stringContaining("tenancy:credentialsMasterKey") });
    expect(() => build("internal")).not.toThrow();
    await settle();
  });

  it("is always parented to its organization, whatever options it is given", async () => {
    const bare = await deployOrganization(recorder, { ...devModel, workspaces: [] });
    const other = new pulumi.ComponentResource("test:index:Elsewhere", "elsewhere");
    const opts = { parent: other, protect: false } as pulumi.ComponentResourceOptions;
    const ws = new Workspace("t-parented", { organization: bare.org, model: devModel, workspace: devModel.workspaces[2]!, postgres: POSTGRES }, opts);
    await valueOf(ws.urn);
    await settle();
    expect((ws as any).__parentResource).toBe(bare.org);
    expect(recorder.registered.find((r) => r.name === "t-parented")).toMatchObject({ parent: bare.root.urn, protect: true });
  });

  it("keeps the admin connection, the app password and the credentials key secret", async () => {
    for (const r of dev.regs.filter((r) => r.custom && "connection" in r.inputs)) {
      expect(isSecretValue(r.inputs.connection), r.name).toBe(true);
      expect(reveal(r.inputs.connection), r.name).toMatchObject({ password: "admin-password" });
    }
    expect(dev.regs.filter((r) => r.custom && !r.type.endsWith("RandomPassword") && !("connection" in r.inputs))).toEqual([]);
    const app = dev.named("acme-emea-support-database-app").inputs;
    expect(isSecretValue(app.password)).toBe(true);
    for (const w of dev.org.workspaces) {
      expect(await pulumi.isSecret(w.appPassword), w.slug).toBe(true);
      expect(await valueOf(w.appPassword)).toBe(`generated-acme-${w.slug}-database-app-password`);
    }
  });

  it("registers what a policy pack sees: slug, organization, decommissioned, members by email, and integrations by secret name", () => {
    const names = workspaceNames("acme", "us-sales");
    expect(dev.outputsOf("acme-us-sales")).toEqual({
      slug: "us-sales", organization: "acme", decommissioned: false, schema: names.schema, appRole: names.app,
      members: { "ben@acme.test": "admin", "chloe@acme.test": "editor" },
      integrations: {
        hubspot: { provider: "hubspot", credentialsSecret: "usHubspotOauth" },
        drive: { provider: "google-drive", credentialsSecret: "usDriveOauth" },
      },
    });
    expect(dev.outputsOf("acme-internal")).toMatchObject({ integrations: {}, members: { "ana@acme.test": "admin", "chloe@acme.test": "viewer" } });
    const seen = JSON.stringify(dev.regs.filter((r) => r.type === WORKSPACE_TYPE).map((r) => dev.outputs.get(r.urn)));
    for (const secret of [...Object.values(SECRET_CONFIG), "admin-password", "generated-"]) expect(seen).not.toContain(secret);
  });
});
