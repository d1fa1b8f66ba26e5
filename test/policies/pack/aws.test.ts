import { describe, expect, it } from "vitest";
import { secretArnWorkspace } from "../../../policies/aws.ts";
import { changed, stackModel, stackSpecs } from "./fixtures.ts";
import { runPack, summary, type Spec } from "./harness.ts";

const aws = stackSpecs(stackModel("dev"), { aws: true });
const props = (spec: Spec) => spec.props ?? {};
const emeaKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/emea-support-0000-1111";

describe("the AWS policies", () => {
  it("passes the components' AWS resources", async () => {
    expect(summary(await runPack(aws))).toEqual([]);
  });

  it("refuses a secret encrypted with another workspace's key, by reference or by ARN", async () => {
    const byDependency = changed(aws, "acme-us-sales-secrets-drive-secret", (s) => ({ ...s, deps: { kmsKeyId: ["acme-emea-support-secrets-key"] } }));
    const reported = await runPack(byDependency);
    expect(summary(reported)).toEqual(["secret-key-within-workspace acme-us-sales-secrets-drive-secret"]);
    expect(reported[0]!.message).toBe('secret "acme-us-sales-secrets-drive-secret" of workspace "acme/us-sales" must be encrypted with its own workspace\'s KMS key; it uses key "acme-emea-support-secrets-key" of workspace "acme/emea-support"');
    const byArn = changed(aws, "acme-us-sales-secrets-drive-secret", (s) => ({ ...s, deps: {}, props: { ...props(s), kmsKeyId: emeaKeyArn } }));
    expect(summary(await runPack(byArn))).toEqual(["secret-key-within-workspace acme-us-sales-secrets-drive-secret"]);
  });

  it("refuses an IAM policy reaching another workspace's secrets, by ARN, wildcard or reference", async () => {
    const policyWith = (resources: string[]) => changed(aws, "acme-us-sales-secrets-read-policy", (s) => ({ ...s, props: { ...props(s), policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: resources }] }) } }));
    expect(summary(await runPack(policyWith(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenancy/acme/emea-support/slack-AbCdEf"])))).toEqual(["iam-policy-within-workspace acme-us-sales-secrets-read-policy"]);
    expect(summary(await runPack(policyWith(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenancy/acme/*"])))).toEqual(["iam-policy-within-workspace acme-us-sales-secrets-read-policy"]);
    expect(summary(await runPack(policyWith([emeaKeyArn])))).toEqual(["iam-policy-within-workspace acme-us-sales-secrets-read-policy"]);
    expect(summary(await runPack(policyWith(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenancy/acme/us-sales/*"])))).toEqual([]);
    const byReference = changed(aws, "acme-us-sales-secrets-read-policy", (s) => ({ ...s, deps: { policy: ["acme-emea-support-secrets-slack-secret"] } }));
    expect(summary(await runPack(byReference))).toEqual(["iam-policy-within-workspace acme-us-sales-secrets-read-policy"]);
  });

  it("reads which workspace a secret ARN names", () => {
    expect(secretArnWorkspace("arn:aws:secretsmanager:eu-west-1:1:secret:tenancy/acme/emea/slack-x")).toBe("acme/emea");
    expect(secretArnWorkspace("arn:aws:secretsmanager:eu-west-1:1:secret:tenancy/acme/emea*")).toBe("*");
    expect(secretArnWorkspace("arn:aws:kms:eu-west-1:1:key/abc")).toBeUndefined();
  });

  it("refuses a workspace AWS resource missing or misstating the tenancy tags", async () => {
    const missing = changed(aws, "acme-emea-support-secrets-key", (s) => ({ ...s, props: { ...props(s), tags: { "tenancy:organization": "acme" } } }));
    const reported = await runPack(missing);
    expect(summary(reported)).toEqual(["workspace-resource-tagged acme-emea-support-secrets-key"]);
    expect(reported[0]!.message).toBe('aws:kms/key:Key "acme-emea-support-secrets-key" must be tagged tenancy:workspace=emea-support; got tenancy:workspace=(missing)');
    const wrong = changed(aws, "acme-emea-support-secrets-read-policy", (s) => ({ ...s, props: { ...props(s), tags: { "tenancy:organization": "acme", "tenancy:workspace": "us-sales" } } }));
    expect(summary(await runPack(wrong))).toEqual(["workspace-resource-tagged acme-emea-support-secrets-read-policy"]);
  });
});
