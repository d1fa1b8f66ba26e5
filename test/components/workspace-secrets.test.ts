// WorkspaceSecrets under Pulumi mocks: no engine, no AWS. The mocks answer like AWS would
// (key ARNs by UUID, secret ARNs with a random suffix), so the checks run on realistic ARNs.
import { randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { KEY_READ_ACTIONS, SECRET_READ_ACTIONS, workspaceAwsNames, type PolicyDocument } from "../../components/aws-policy.ts";
import { credentialValue, WORKSPACE_SECRETS_TYPE, WorkspaceSecrets } from "../../components/workspace-secrets.ts";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const TOKENS = { "credentials:emeaSlackToken": "xoxb-emea-0000000000-plaintext", "credentials:emeaGithubToken": "ghp_emea_plaintext_value", "crm:usToken": "us-hubspot-plaintext" };

interface Registered { type: string; name: string; inputs: Record<string, any>; state: Record<string, any> }
const registered: Registered[] = [];
const components: string[] = [];

function suffix(): string {
  return randomUUID().replace(/-/g, "").slice(0, 6);
}

/** What AWS would return for each resource type, enough for the component's outputs. */
function stateOf(type: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  switch (type) {
    case "aws:kms/key:Key": {
      const id = randomUUID();
      return { id, state: { ...inputs, keyId: id, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}` } };
    }
    case "aws:kms/alias:Alias":
      return { id: inputs.name, state: { ...inputs, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:${inputs.name}` } };
    case "aws:secretsmanager/secret:Secret": {
      const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${inputs.name}-${suffix()}`;
      return { id: arn, state: { ...inputs, arn } };
    }
    case "aws:secretsmanager/secretVersion:SecretVersion":
      return { id: `${inputs.secretId}|${randomUUID()}`, state: { ...inputs, arn: inputs.secretId } };
    case "aws:iam/policy:Policy":
      return { id: inputs.name, state: { ...inputs, arn: `arn:aws:iam::${ACCOUNT}:policy${inputs.path}${inputs.name}` } };
    default:
      return { id: `${inputs.name ?? "id"}-${suffix()}`, state: inputs };
  }
}

const byType = (type: string) => registered.filter((r) => r.type === type);
const named = (name: string) => registered.find((r) => r.name === name)!;
const unwrap = (v: any) => (pulumi.runtime.isRpcSecret(v) ? pulumi.runtime.unwrapRpcSecret(v) : v);
const valueOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
/** Every registration the program started has reached the mocks (internal, but what disconnect() uses). */
const settle = () => (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

let emea: WorkspaceSecrets;
let us: WorkspaceSecrets;

beforeAll(async () => {
  await pulumi.runtime.setMocks({
    newResource: ({ type, name, inputs, custom }) => {
      const result = stateOf(type, inputs);
      if (custom) registered.push({ type, name, inputs, state: result.state });
      else components.push(`${type} ${name}`);
      return result;
    },
    call: () => ({}),
  }, "tenancy", "test", false);
  pulumi.runtime.setAllConfig(TOKENS, Object.keys(TOKENS));
  emea = new WorkspaceSecrets("acme-emea-support-secrets", {
    organization: "acme", workspace: "emea-support", aws: true,
    integrations: [
      { slug: "slack", provider: "slack", credentialsSecret: "emeaSlackToken" },
      { slug: "github", provider: "github", credentialsSecret: "emeaGithubToken" },
    ],
  });
  us = new WorkspaceSecrets("acme-us-secrets", {
    organization: "acme", workspace: "us", aws: true, tags: { team: "sales", "tenancy:workspace": "spoofed" },
    integrations: [{ slug: "hubspot", provider: "hubspot", credentialsSecret: "crm:usToken" }],
  });
  await Promise.all([emea, us].map((w) => valueOf(w.policyArn!)));
  await settle();
});

describe("WorkspaceSecrets with AWS (mocks)", () => {
  it("registers one key, alias and read policy per workspace and a secret with a version per integration", () => {
    const summary = registered.map((r) => `${r.type} ${r.name}`).sort();
    expect(summary).toEqual([
      "aws:iam/policy:Policy acme-emea-support-secrets-read-policy",
      "aws:iam/policy:Policy acme-us-secrets-read-policy",
      "aws:kms/alias:Alias acme-emea-support-secrets-alias",
      "aws:kms/alias:Alias acme-us-secrets-alias",
      "aws:kms/key:Key acme-emea-support-secrets-key",
      "aws:kms/key:Key acme-us-secrets-key",
      "aws:secretsmanager/secret:Secret acme-emea-support-secrets-github-secret",
      "aws:secretsmanager/secret:Secret acme-emea-support-secrets-slack-secret",
      "aws:secretsmanager/secret:Secret acme-us-secrets-hubspot-secret",
      "aws:secretsmanager/secretVersion:SecretVersion acme-emea-support-secrets-github-secret-version",
      "aws:secretsmanager/secretVersion:SecretVersion acme-emea-support-secrets-slack-secret-version",
      "aws:secretsmanager/secretVersion:SecretVersion acme-us-secrets-hubspot-secret-version",
    ]);
    expect(components).toEqual(["tenancy:index:WorkspaceSecrets acme-emea-support-secrets", "tenancy:index:WorkspaceSecrets acme-us-secrets"]);
    expect(emea.backend).toBe("aws");
  });

  it("makes rotating keys named after their workspace, with a deletion window and an alias under alias/tenancy/<org>/<workspace>", () => {
    const key = named("acme-emea-support-secrets-key").inputs;
    expect(key).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(key.description).toContain('workspace "emea-support" in organization "acme"');
    expect(named("acme-emea-support-secrets-alias").inputs).toEqual({
      name: "alias/tenancy/acme/emea-support",
      targetKeyId: named("acme-emea-support-secrets-key").state.keyId,
    });
  });

  it("encrypts each secret with its own workspace's key, never the other's", () => {
    const keyArn = (prefix: string) => named(`${prefix}-key`).state.arn;
    for (const secret of byType("aws:secretsmanager/secret:Secret")) {
      const prefix = secret.name.startsWith("acme-us-") ? "acme-us-secrets" : "acme-emea-support-secrets";
      const other = prefix === "acme-us-secrets" ? "acme-emea-support-secrets" : "acme-us-secrets";
      expect(secret.inputs.kmsKeyId).toBe(keyArn(prefix));
      expect(secret.inputs.kmsKeyId).not.toBe(keyArn(other));
    }
    expect(named("acme-emea-support-secrets-slack-secret").inputs.name).toBe("tenancy/acme/emea-support/slack");
    expect(named("acme-us-secrets-hubspot-secret").inputs.name).toBe("tenancy/acme/us/hubspot");
  });

  it("names and tags what it creates as workspaceAwsNames says (the audit looks for those names)", () => {
    const names = workspaceAwsNames("acme", "emea-support");
    const emeaOnes = registered.filter((r) => r.name.startsWith("acme-emea-support-secrets-") && !r.name.includes("-pg"));
    expect(emeaOnes.find((r) => r.type === "aws:kms/alias:Alias")!.inputs.name).toBe(names.alias);
    expect(emeaOnes.filter((r) => r.type === "aws:secretsmanager/secret:Secret").map((r) => r.inputs.name).sort()).toEqual([names.secretName("github"), names.secretName("slack")]);
    const policy = emeaOnes.find((r) => r.type === "aws:iam/policy:Policy")!;
    expect([policy.inputs.name, policy.inputs.path]).toEqual([names.policyName, names.policyPath]);
    for (const r of emeaOnes.filter((x) => x.inputs.tags)) expect(r.inputs.tags).toMatchObject(names.tags);
  });

  it("tags every AWS resource that takes tags with its organization and workspace", () => {
    // KMS aliases and secret versions have no tags in AWS; the rest must all carry them.
    const taggable = registered.filter((r) => !["aws:kms/alias:Alias", "aws:secretsmanager/secretVersion:SecretVersion"].includes(r.type));
    expect(taggable).toHaveLength(7);
    for (const r of taggable) {
      const ws = r.name.startsWith("acme-us-") ? "us" : "emea-support";
      expect(r.inputs.tags, r.name).toMatchObject({ "tenancy:organization": "acme", "tenancy:workspace": ws });
    }
    expect(named("acme-us-secrets-key").inputs.tags).toMatchObject({ team: "sales", "tenancy:workspace": "us" });
    expect(named("acme-us-secrets-hubspot-secret").inputs.tags).toMatchObject({ "tenancy:integration": "hubspot", "tenancy:provider": "hubspot" });
  });

  it("passes each credential to its SecretVersion as a secret", () => {
    const versions = byType("aws:secretsmanager/secretVersion:SecretVersion");
    for (const version of versions) {
      expect(pulumi.runtime.isRpcSecret(version.inputs.secretString), version.name).toBe(true);
      expect(version.inputs.secretId).toBe(named(version.name.replace(/-version$/, "")).state.arn);
    }
    expect(unwrap(named("acme-us-secrets-hubspot-secret-version").inputs.secretString)).toBe(TOKENS["crm:usToken"]);
    // Nothing but the version holds the value.
    const others = registered.filter((r) => r.type !== "aws:secretsmanager/secretVersion:SecretVersion");
    for (const token of Object.values(TOKENS)) expect(JSON.stringify(others.map((r) => r.inputs))).not.toContain(token);
  });

  it("lets each workspace's policy read only that workspace's secrets and decrypt only with its key", async () => {
    const arnsOf = (prefix: string) => byType("aws:secretsmanager/secret:Secret").filter((s) => s.name.startsWith(`${prefix}-`)).map((s) => s.state.arn as string);
    for (const [prefix, other] of [["acme-emea-support-secrets", "acme-us-secrets"], ["acme-us-secrets", "acme-emea-support-secrets"]] as const) {
      const doc = JSON.parse(named(`${prefix}-read-policy`).inputs.policy) as PolicyDocument;
      const resources = doc.Statement.flatMap((s) => s.Resource);
      expect(new Set(resources)).toEqual(new Set([...arnsOf(prefix), named(`${prefix}-key`).state.arn]));
      for (const foreign of [...arnsOf(other), named(`${other}-key`).state.arn]) expect(resources).not.toContain(foreign);
      expect(new Set(doc.Statement.flatMap((s) => s.Action))).toEqual(new Set([...SECRET_READ_ACTIONS, ...KEY_READ_ACTIONS]));
    }
    expect(named("acme-emea-support-secrets-read-policy").inputs).toMatchObject({ name: "tenancy-acme-emea-support-credentials-read", path: "/tenancy/acme/" });
  });

  it("exports the policy ARN and each integration's secret ARN by slug", async () => {
    expect(await valueOf(emea.policyArn!)).toBe(`arn:aws:iam::${ACCOUNT}:policy/tenancy/acme/tenancy-acme-emea-support-credentials-read`);
    expect(await valueOf(emea.secretArns!)).toEqual({
      slack: named("acme-emea-support-secrets-slack-secret").state.arn,
      github: named("acme-emea-support-secrets-github-secret").state.arn,
    });
    expect(await valueOf(us.keyArn!)).toBe(named("acme-us-secrets-key").state.arn);
    expect(WORKSPACE_SECRETS_TYPE).toBe("tenancy:index:WorkspaceSecrets");
  });
});

describe("WorkspaceSecrets without AWS (mocks)", () => {
  // Without AWS a Workspace seals its credentials into PostgreSQL with one WorkspaceCredentials
  // resource (test/components/workspace.test.ts); WorkspaceSecrets is AWS only.
  it("refuses to keep credentials anywhere but AWS, registering no AWS resource", async () => {
    const before = registered.length;
    let error: unknown;
    try {
      new WorkspaceSecrets("w-local", { organization: "acme", workspace: "w", integrations: [{ slug: "slack", provider: "slack", credentialsSecret: "emeaSlackToken" }] });
    } catch (e) {
      error = e;
    }
    await settle();
    expect(error).toBeInstanceOf(pulumi.InputPropertyError);
    expect(error).toMatchObject({ propertyPath: "aws", reason: expect.stringContaining("seals them into PostgreSQL") });
    expect(registered.slice(before)).toEqual([]);
    expect(JSON.stringify(error)).not.toContain(TOKENS["credentials:emeaSlackToken"]);
  });

  it("names a missing secret config key without guessing at values", () => {
    expect(() => new WorkspaceSecrets("w-missing", {
      organization: "acme", workspace: "w", aws: true,
      integrations: [{ slug: "slack", provider: "slack", credentialsSecret: "nowhere:token" }],
    })).toThrow(/secret config value "nowhere:token" is not set/);
  });

  it("refuses a slug used twice", () => {
    const slack = { slug: "slack", provider: "slack", credentialsSecret: "emeaSlackToken" };
    expect(() => new WorkspaceSecrets("w-twice", { organization: "acme", workspace: "w", aws: true, integrations: [slack, slack] })).toThrow(/appears twice/);
  });
});

describe("credentialValue: the config namespace of a credential", () => {
  const reveal = (o: pulumi.Output<string>) => new Promise<string>((done) => o.apply((v) => done(v)));

  it("reads a name without a namespace from credentials:, not from the project's namespace", async () => {
    const warn = vi.spyOn(pulumi.log, "warn");
    const config = { "credentials:slackToken": "from-credentials", "tenancy:slackToken": "from-project" };
    expect(await reveal(credentialValue("slackToken", "p", config))).toBe("from-credentials");
    expect(await reveal(credentialValue("crm:slackToken", "p", { "crm:slackToken": "named" }))).toBe("named");
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it("still reads one left in the project's namespace, warning once per run how to move it, never its value", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(async () => {});
    const config = { "tenancy:oldToken": "old-plaintext-value", "tenancy:otherToken": "other-plaintext-value" };
    const value = credentialValue("oldToken", "p", config);
    expect(await pulumi.isSecret(value)).toBe(true);
    expect(await reveal(value)).toBe("old-plaintext-value");
    expect(await reveal(credentialValue("otherToken", "p", config))).toBe("other-plaintext-value");
    expect(warn).toHaveBeenCalledTimes(1);
    const [message] = warn.mock.calls[0]!;
    expect(message).toContain('"tenancy:oldToken"');
    expect(message).toContain("pulumi config set --secret credentials:oldToken");
    expect(message).toContain("128 KiB");
    expect(message).not.toContain("plaintext-value");
    warn.mockRestore();
  });

  it("names the credentials: key when neither is set", () => {
    expect(() => credentialValue("absentToken", "p", {})).toThrow(/"credentials:absentToken" is not set; run `pulumi config set --secret credentials:absentToken`/);
  });
});
