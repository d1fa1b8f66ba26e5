// Workspace under Pulumi mocks (no engine): its children, their protection, ordering, members,
// credentials and secrets, as the engine would receive them.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { workspaceMembersArgs, workspaceRecordArgs } from "../../components/control-plane/args.ts";
import { deriveAppPassword, deriveWorkspaceKey } from "../../components/credentials-crypto.ts";
import { workspaceNames } from "../../components/naming.ts";
import { WORKSPACE_BOUNDARY_TYPE, WORKSPACE_CREDENTIALS_TYPE, WORKSPACE_RECORD_TYPE } from "../../components/resources.ts";
import { WORKSPACE_TYPE, Workspace } from "../../components/workspace.ts";
import { WORKSPACE_SECRETS_TYPE } from "../../components/workspace-secrets.ts";
import {
  declaration, deployOrganization, isSecretValue, MASTER_KEY, plainInputs, reveal, SECRET_CONFIG, settle, startMocks,
  subtree, valueOf, type Deployed, type Registration,
} from "./mock-harness.ts";

const recorder = await startMocks({ secretConfig: SECRET_CONFIG });
const devModel = declaration("dev");
const dev = await deployOrganization(recorder, devModel);
const aws = await deployOrganization(recorder, declaration("dev"), { aws: true });

const line = (r: Registration) => `${r.type} ${r.name}`;
const inWorkspace = (d: Deployed, name: string) => subtree(d.regs, d.named(name).urn);
const workspaceOf = (d: Deployed, slug: string) => d.org.workspaces.find((w) => w.slug === slug)!;

/** Every resource object under `res`, via Pulumi's internal `__childResources` (no public API lists children). */
function descendants(res: pulumi.Resource): pulumi.Resource[] {
  const children = [...((res as any).__childResources ?? []) as Set<pulumi.Resource>];
  return children.flatMap((c) => [c, ...descendants(c)]);
}

describe("Workspace", () => {
  it("names its children ${name}-boundary, -record and -credentials (or, with integrations and AWS, -secrets)", () => {
    const direct = (d: Deployed, name: string) => d.regs.filter((r) => r.parent === d.named(name).urn).map(line).sort();
    const common = (n: string) => [`${WORKSPACE_BOUNDARY_TYPE} ${n}-boundary`, `${WORKSPACE_RECORD_TYPE} ${n}-record`];
    expect(direct(dev, "acme-emea-support")).toEqual([...common("acme-emea-support"), `${WORKSPACE_CREDENTIALS_TYPE} acme-emea-support-credentials`].sort());
    expect(direct(dev, "acme-us-sales")).toEqual([...common("acme-us-sales"), `${WORKSPACE_CREDENTIALS_TYPE} acme-us-sales-credentials`].sort());
    expect(direct(dev, "acme-internal")).toEqual([...common("acme-internal"), `${WORKSPACE_CREDENTIALS_TYPE} acme-internal-credentials`].sort());
    expect(direct(aws, "acme-us-sales")).toEqual([...common("acme-us-sales"), `${WORKSPACE_SECRETS_TYPE} acme-us-sales-secrets`].sort());
    expect(direct(aws, "acme-internal")).toEqual(common("acme-internal").sort());
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
    expect(inWorkspace(aws, "acme-emea-support-secrets").map((r) => r.name).sort()).toEqual([
      "acme-emea-support-secrets", "acme-emea-support-secrets-alias", "acme-emea-support-secrets-key", "acme-emea-support-secrets-read-policy",
      "acme-emea-support-secrets-slack-secret", "acme-emea-support-secrets-slack-secret-version",
    ]);
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
    for (const [d, size] of [[await deployOrganization(recorder, model), 4], [await deployOrganization(recorder, model, { aws: true }), 9]] as const) {
      const retiring = inWorkspace(d, "acme-emea-support");
      expect(retiring).toHaveLength(size);
      expect(retiring.filter((r) => r.protect).map((r) => r.name)).toEqual([]);
      expect(descendants(workspaceOf(d, "emea-support")).filter((c) => (c as any).__protect)).toEqual([]);
      expect([...inWorkspace(d, "acme-us-sales"), ...inWorkspace(d, "acme-internal")].every((r) => r.protect)).toBe(true);
      expect(d.named("acme-emea-support-record").inputs.decommissioned).toBe(true);
      expect(d.outputsOf("acme-emea-support").decommissioned).toBe(true);
    }
  });

  it("orders each workspace's record after the organization record and its own boundary (a refused boundary leaves no record), and its boundary after nothing", () => {
    const orgRecord = dev.named("acme-record").urn;
    for (const slug of ["emea-support", "us-sales", "internal"]) {
      expect(dev.named(`acme-${slug}-record`).dependencies).toEqual([orgRecord, dev.named(`acme-${slug}-boundary`).urn]);
      expect(dev.named(`acme-${slug}-boundary`).dependencies).toEqual([]);
    }
  });

  it("seals credentials only once the workspace's boundary (schema, roles, credentials table) exists", () => {
    for (const slug of ["emea-support", "us-sales"]) {
      expect(dev.named(`acme-${slug}-credentials`).dependencies).toEqual([dev.named(`acme-${slug}-boundary`).urn]);
    }
  });

  it("fills the workspace record from workspaceRecordArgs and the members from workspaceMembersArgs, integrations by slug with the secret's name only", () => {
    for (const ws of devModel.workspaces) {
      expect(plainInputs(dev.named(`acme-${ws.slug}-record`))).toEqual({
        ...workspaceRecordArgs(devModel, ws, { decommissioned: false }), members: workspaceMembersArgs(devModel, ws).members,
      });
    }
    expect(dev.named("acme-us-sales-record").inputs.integrations).toEqual({
      hubspot: { provider: "hubspot", credentialsSecret: "usHubspotOauth" }, drive: { provider: "google-drive", credentialsSecret: "usDriveOauth" },
    });
  });

  it("declares the members on the record keyed by normalised email, with their roles", async () => {
    expect(dev.named("acme-emea-support-record").inputs.members).toEqual({ "ana@acme.test": "admin", "ben@acme.test": "editor", "dev@partner.test": "viewer" });
    const mixed = await deployOrganization(recorder, declaration("dev", (doc) => { doc.workspaces[0].members[0].email = "Ana@ACME.Test"; }));
    expect(mixed.named("acme-emea-support-record").inputs.members).toEqual(dev.named("acme-emea-support-record").inputs.members);
    expect(mixed.outputsOf("acme-emea-support").members).toEqual(dev.outputsOf("acme-emea-support").members);
  });

  it("changes only that member's key on the record when a role changes, and nothing else", async () => {
    const changed = await deployOrganization(recorder, declaration("dev", (doc) => { doc.workspaces[0].members[1].role = "viewer"; }));
    const differing = dev.regs.filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(changed.named(r.name).inputs)).map((r) => r.name);
    expect(differing).toEqual(["acme-emea-support-record"]);
    const { members: before, ...restBefore } = dev.named("acme-emea-support-record").inputs;
    const { members: after, ...restAfter } = changed.named("acme-emea-support-record").inputs;
    expect(restAfter).toEqual(restBefore);
    expect(after).toEqual({ ...(before as object), "ben@acme.test": "viewer" });
    expect(changed.outputsOf("acme-emea-support").members).toEqual({ ...(dev.outputsOf("acme-emea-support").members as object), "ben@acme.test": "viewer" });
  });

  it("without AWS, seals every integration of a workspace in one WorkspaceCredentials under its derived key", async () => {
    expect(dev.regs.filter((r) => r.type === WORKSPACE_CREDENTIALS_TYPE).map((r) => r.name).sort()).toEqual(["acme-emea-support-credentials", "acme-internal-credentials", "acme-us-sales-credentials"]);
    expect(dev.regs.filter((r) => r.type.startsWith("aws:") || r.type === WORKSPACE_SECRETS_TYPE)).toEqual([]);
    const names = workspaceNames("acme", "us-sales");
    const key = await deriveWorkspaceKey(MASTER_KEY, "acme", "us-sales");
    const credentials = dev.named("acme-us-sales-credentials").inputs;
    expect(credentials).toMatchObject({ organization: "acme", workspace: "us-sales", names: { schema: names.schema, owner: names.owner, app: names.app } });
    // The key itself is never sent: the provider derives it from its master key and the generation.
    expect(credentials.keyGeneration).toBe("1");
    expect(credentials).not.toHaveProperty("key");
    expect(JSON.stringify(dev.regs.map((r) => r.inputs))).not.toContain(key);
    const integrations = credentials.integrations as Record<string, { provider: string; value: unknown }>;
    expect(Object.keys(integrations).sort()).toEqual(["drive", "hubspot"]);
    for (const [slug, i] of Object.entries(integrations)) expect(isSecretValue(i.value), slug).toBe(true);
    expect(plainInputs(dev.named("acme-us-sales-credentials")).integrations).toEqual({
      drive: { provider: "google-drive", value: SECRET_CONFIG["credentials:usDriveOauth"] },
      hubspot: { provider: "hubspot", value: SECRET_CONFIG["credentials:usHubspotOauth"] },
    });
  });

  it("with AWS, makes a KMS key, alias and read policy per workspace and a secret per integration, and no WorkspaceCredentials", async () => {
    expect(inWorkspace(aws, "acme-us-sales-secrets").filter((r) => r.custom).map(line).sort()).toEqual([
      "aws:iam/policy:Policy acme-us-sales-secrets-read-policy",
      "aws:kms/alias:Alias acme-us-sales-secrets-alias",
      "aws:kms/key:Key acme-us-sales-secrets-key",
      "aws:secretsmanager/secret:Secret acme-us-sales-secrets-drive-secret",
      "aws:secretsmanager/secret:Secret acme-us-sales-secrets-hubspot-secret",
      "aws:secretsmanager/secretVersion:SecretVersion acme-us-sales-secrets-drive-secret-version",
      "aws:secretsmanager/secretVersion:SecretVersion acme-us-sales-secrets-hubspot-secret-version",
    ]);
    expect(aws.regs.filter((r) => r.type === WORKSPACE_CREDENTIALS_TYPE)).toEqual([]);
    expect(inWorkspace(aws, "acme-internal").filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    const version = aws.named("acme-emea-support-secrets-slack-secret-version").inputs;
    expect(isSecretValue(version.secretString)).toBe(true);
    expect(reveal(version.secretString)).toBe(SECRET_CONFIG["credentials:emeaSlackToken"]);
    expect(aws.named("acme-emea-support-secrets-slack-secret").inputs).toMatchObject({ name: "tenancy/acme/emea-support/slack" });
    // The boundary is the same with or without AWS.
    expect(aws.named("acme-us-sales-boundary").inputs).toEqual(dev.named("acme-us-sales-boundary").inputs);
  });

  it("is always parented to its organization, whatever options it is given", async () => {
    const bare = await deployOrganization(recorder, { ...devModel, workspaces: [] });
    const other = new pulumi.ComponentResource("test:index:Elsewhere", "elsewhere");
    const opts = { parent: other, protect: false } as pulumi.ComponentResourceOptions;
    const ws = new Workspace("t-parented", { organization: bare.org, model: devModel, workspace: devModel.workspaces[2]!, database: "tenancy" }, opts);
    await valueOf(ws.urn);
    await settle();
    expect((ws as any).__parentResource).toBe(bare.org);
    expect(recorder.registered.find((r) => r.name === "t-parented")).toMatchObject({ parent: bare.root.urn, protect: true });
    // Its resources still go through the organization's provider.
    expect(recorder.registered.find((r) => r.name === "t-parented-boundary")!.provider).toMatch(new RegExp(`^${bare.named("acme-provider").urn.replace(/[$]/g, "\\$")}::`));
  });

  it("asks the provider for a new app password and data key when its key generation is bumped", async () => {
    const bare = await deployOrganization(recorder, { ...devModel, workspaces: [] });
    const rotated = new Workspace("t-rotated", { organization: bare.org, model: devModel, workspace: devModel.workspaces[0]!, database: "tenancy", keyGeneration: "2" });
    await valueOf(rotated.urn);
    await settle();
    expect(rotated.keyGeneration).toBe("2");
    expect(recorder.registered.find((r) => r.name === "t-rotated-boundary")!.inputs.passwordGeneration).toBe("2");
    expect(recorder.registered.find((r) => r.name === "t-rotated-credentials")!.inputs.keyGeneration).toBe("2");
  });

  it("keeps the app password, the credentials key, the master key and the admin connection out of every workspace resource", async () => {
    const inWorkspaces = dev.regs.filter((r) => r.custom && dev.org.workspaces.some((w) => inWorkspace(dev, `acme-${w.slug}`).includes(r)));
    expect(inWorkspaces.length).toBeGreaterThan(0);
    for (const r of inWorkspaces) {
      expect(r.inputs, r.name).not.toHaveProperty("connection");
      expect(JSON.stringify(r.inputs), r.name).not.toContain("admin-password");
    }
    const sent = JSON.stringify(inWorkspaces.map((r) => r.inputs));
    expect(sent).not.toContain(MASTER_KEY);
    for (const w of dev.org.workspaces) {
      expect(sent, w.slug).not.toContain(await deriveAppPassword(MASTER_KEY, "acme", w.slug));
      expect(sent, w.slug).not.toContain(await deriveWorkspaceKey(MASTER_KEY, "acme", w.slug));
    }
  });

  it("registers what a policy pack sees: slug, organization, decommissioned, members by email, and integrations by secret name", async () => {
    const names = workspaceNames("acme", "us-sales");
    expect(dev.outputsOf("acme-us-sales")).toEqual({
      slug: "us-sales", organization: "acme", decommissioned: false, schema: names.schema, appRole: names.app, connectionLimit: 20,
      members: { "ben@acme.test": "admin", "chloe@acme.test": "editor" },
      integrations: {
        hubspot: { provider: "hubspot", credentialsSecret: "usHubspotOauth" },
        drive: { provider: "google-drive", credentialsSecret: "usDriveOauth" },
      },
    });
    expect(dev.outputsOf("acme-internal")).toMatchObject({ integrations: {}, members: { "ana@acme.test": "admin", "chloe@acme.test": "viewer" } });
    const seen = JSON.stringify(dev.regs.filter((r) => r.type === WORKSPACE_TYPE).map((r) => dev.outputs.get(r.urn)));
    const derived = await Promise.all(devModel.workspaces.flatMap((w) => [deriveAppPassword(MASTER_KEY, "acme", w.slug), deriveWorkspaceKey(MASTER_KEY, "acme", w.slug)]));
    for (const secret of [...Object.values(SECRET_CONFIG), "admin-password", ...derived]) expect(seen).not.toContain(secret);
  });
});
