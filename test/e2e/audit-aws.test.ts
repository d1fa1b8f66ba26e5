// The audit's AWS reader against a moto server on the loopback (PyPI `moto[server]`, installed
// by .ci/install-moto.sh), with the dev stack's resources created through the AWS SDK the way
// components/workspace-secrets.ts declares them: a tagged KMS key and alias per workspace with
// integrations, a secret per integration under that key, and the read policy of aws-policy.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient, UpdateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { CreatePolicyCommand, CreatePolicyVersionCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffAws } from "../../audit/diff-aws.ts";
import { readAws, type AwsClients } from "../../audit/read-aws.ts";
import { TAG_INTEGRATION, workspaceAwsNames, workspaceReadPolicy } from "../../components/aws-policy.ts";
import { freePort } from "../../cli/local/net.ts";
import { devDeclaration } from "../audit/fixture.ts";

const SECRET_VALUE = "xoxb-never-read-by-the-audit-0000";
let moto: ChildProcess;
let clients: AwsClients;
const sent: string[] = [];
const model = devDeclaration().model;
const keyArns = new Map<string, string>();
const secretArns = new Map<string, string>();

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try { if ((await fetch(url)).status < 500) return; } catch { /* not up yet */ }
    if (Date.now() > until) throw new Error(`moto_server did not answer on ${url} (is \`moto[server]\` installed? bash .ci/install-moto.sh)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const port = await freePort();
  moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  await waitFor(`http://127.0.0.1:${port}/moto-api/`, 60_000);
  const config = { region: "eu-west-1", endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
  clients = { kms: new KMSClient(config), secrets: new SecretsManagerClient(config), iam: new IAMClient(config) };
  // Record every command the audit sends: it must never ask for a secret's value.
  for (const client of Object.values(clients)) {
    const stack = client.middlewareStack as unknown as { add(mw: unknown, options: { step: string }): void };
    stack.add((next: (args: unknown) => unknown, context: { commandName?: string }) => (args: unknown) => { sent.push(String(context.commandName)); return next(args); }, { step: "initialize" });
  }
  const tags = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
  for (const ws of model.workspaces.filter((w) => w.integrations.length > 0)) {
    const names = workspaceAwsNames("acme", ws.slug);
    const key = await clients.kms.send(new CreateKeyCommand({ Description: `Integration credentials of workspace "${ws.slug}"`, Tags: Object.entries(names.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) }));
    keyArns.set(ws.slug, key.KeyMetadata!.Arn!);
    await clients.kms.send(new CreateAliasCommand({ AliasName: names.alias, TargetKeyId: key.KeyMetadata!.KeyId }));
    const arns: string[] = [];
    for (const integration of ws.integrations) {
      const secret = await clients.secrets.send(new CreateSecretCommand({
        Name: names.secretName(integration.slug), KmsKeyId: key.KeyMetadata!.Arn, SecretString: SECRET_VALUE,
        Tags: tags({ ...names.tags, [TAG_INTEGRATION]: integration.slug }),
      }));
      arns.push(secret.ARN!);
      secretArns.set(`${ws.slug}/${integration.slug}`, secret.ARN!);
    }
    await clients.iam.send(new CreatePolicyCommand({
      PolicyName: names.policyName, Path: names.policyPath, Tags: tags(names.tags),
      PolicyDocument: JSON.stringify(workspaceReadPolicy({ keyArn: key.KeyMetadata!.Arn!, secretArns: arns })),
    }));
  }
  sent.length = 0;
});

afterAll(() => { moto?.kill(); });

const summary = (f: ReturnType<typeof diffAws>) => f.map((x) => `${x.class} ${x.id} ${x.workspace ?? "-"}`).sort();

describe("the audit's AWS reader (moto)", () => {
  it("finds every key, alias, secret and policy the components would create, and no deviation", async () => {
    const { state, calls } = await readAws(clients, "acme");
    expect(state.keys.map((k) => k.aliases).sort()).toEqual([["alias/tenancy/acme/emea-support"], ["alias/tenancy/acme/us-sales"]]);
    expect(state.secrets.map((s) => s.name)).toEqual(["tenancy/acme/emea-support/slack", "tenancy/acme/us-sales/drive", "tenancy/acme/us-sales/hubspot"]);
    expect(state.policies.map((p) => p.name).sort()).toEqual(["tenancy-acme-emea-support-credentials-read", "tenancy-acme-us-sales-credentials-read"]);
    expect(calls).toBe(sent.length);
    expect(diffAws(model, state)).toEqual([]);
  });

  it("reads metadata only: never GetSecretValue, and no value anywhere in what it read", async () => {
    sent.length = 0;
    const { state } = await readAws(clients, "acme");
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((c) => /GetSecretValue|BatchGetSecretValue|Decrypt/.test(c))).toEqual([]);
    expect(JSON.stringify(state)).not.toContain(SECRET_VALUE);
  });

  it("reports a secret re-encrypted under another workspace's key, and a read policy widened to another workspace, as boundary", async () => {
    await clients.secrets.send(new UpdateSecretCommand({ SecretId: "tenancy/acme/us-sales/hubspot", KmsKeyId: keyArns.get("emea-support") }));
    const emea = workspaceAwsNames("acme", "emea-support");
    await clients.iam.send(new CreatePolicyVersionCommand({
      PolicyArn: `arn:aws:iam::123456789012:policy${emea.policyPath}${emea.policyName}`, SetAsDefault: true,
      PolicyDocument: JSON.stringify(workspaceReadPolicy({ keyArn: keyArns.get("emea-support")!, secretArns: [secretArns.get("emea-support/slack")!, secretArns.get("us-sales/drive")!] })),
    }));
    const found = diffAws(model, (await readAws(clients, "acme")).state);
    expect(summary(found)).toEqual(["boundary aws-policy-crosses-boundary emea-support", "boundary aws-secret-key-crosses-boundary us-sales"]);
    expect(found.find((f) => f.id === "aws-policy-crosses-boundary")!.message).toContain(secretArns.get("us-sales/drive"));
  });

  it("reports a stray secret under the organization's names as unexpected, and a deleted one as missing", async () => {
    await clients.secrets.send(new CreateSecretCommand({ Name: "tenancy/acme/ghost/dropbox", SecretString: SECRET_VALUE }));
    await clients.secrets.send(new DeleteSecretCommand({ SecretId: "tenancy/acme/us-sales/drive", ForceDeleteWithoutRecovery: true }));
    const found = summary(diffAws(model, (await readAws(clients, "acme")).state));
    expect(found).toEqual([
      "boundary aws-policy-crosses-boundary emea-support", // from the test above
      "boundary aws-secret-key-crosses-boundary us-sales", // from the test above
      "changed aws-resource-changed us-sales",             // its policy still names the deleted secret
      "missing aws-resource-missing us-sales",
      "unexpected aws-resource-unexpected ghost",
    ]);
  });
});
