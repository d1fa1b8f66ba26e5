import { describe, expect, it } from "vitest";
import { findSecretPaths } from "../../../policies/view.ts";
import { APP_PASSWORD, changed, stackModel, stackSpecs } from "./fixtures.ts";
import { runPack, summary, type Spec } from "./harness.ts";

const dev = stackSpecs(stackModel("dev"));
const aws = stackSpecs(stackModel("dev"), { aws: true });
const props = (spec: Spec) => spec.props ?? {};
const TOKEN = "xoxb-1234567890-abcdefghijkl";

describe("no-plaintext-secret-literal", () => {
  it("refuses a credential-looking input that is not marked secret, without printing it", async () => {
    const plain = changed(aws, "acme-emea-support-secrets-slack-secret-version", (s) => ({ ...s, secret: [] }));
    const reported = await runPack(plain);
    expect(summary(reported)).toEqual(["no-plaintext-secret-literal acme-emea-support-secrets-slack-secret-version"]);
    expect(reported[0]!.message).toBe('input secretString of aws:secretsmanager/secretVersion:SecretVersion "acme-emea-support-secrets-slack-secret-version" starts with the token prefix "xoxb-" (28 characters) and looks like a credential, but is not marked secret (value not shown)');
    expect(reported[0]!.message).not.toContain(TOKEN);
  });

  it("looks into nested inputs and JSON documents, and ignores what arrived secret", async () => {
    const nested = changed(dev, "acme-internal-record", (s) => ({ ...s, props: { ...props(s), agents: { bot: { name: "AKIAIOSFODNN7EXAMPLE" } } } }));
    expect(summary(await runPack(nested))).toEqual(["no-plaintext-secret-literal acme-internal-record"]);
    const marked = changed(nested, "acme-internal-record", (s) => ({ ...s, secret: [["agents"]] }));
    expect(summary(await runPack(marked))).toEqual([]);
  });

  it("passes the real stacks' names, ARNs and digests, and refuses a password a program sends in clear", async () => {
    expect(summary(await runPack(dev))).toEqual([]);
    // The provider derives app passwords itself; a hand-written program might still send one.
    const unmarkedPassword = changed(dev, "acme-internal-boundary", (s) => ({ ...s, props: { ...(s.props as object), appPassword: APP_PASSWORD }, secret: [] }));
    const reported = await runPack(unmarkedPassword);
    expect(summary(reported)).toEqual(["no-plaintext-secret-literal acme-internal-boundary"]);
    expect(reported[0]!.message).toMatch(/^input appPassword of tenancy:postgres:WorkspaceBoundary "acme-internal-boundary" .* is not marked secret \(value not shown\)$/);
    expect(reported[0]!.message).not.toContain(APP_PASSWORD);
  });

  it("refuses a data key or an integration's credential sent in clear, at its path", async () => {
    const unmarkedKey = changed(dev, "acme-us-sales-credentials", (s) => ({ ...s, props: { ...(s.props as object), key: "F71lmTp3t+/EVoE/18ymJrlcq8O+2NpP/ldce7t1Bi8=" } }));
    const reported = await runPack(unmarkedKey);
    expect(summary(reported)).toEqual(["no-plaintext-secret-literal acme-us-sales-credentials"]);
    expect(reported[0]!.message).toMatch(/^input key of /);
    const unmarkedValue = changed(dev, "acme-us-sales-credentials", (s) => ({ ...s, secret: (s.secret ?? []).filter((p) => p[1] !== "drive") }));
    const value = await runPack(unmarkedValue);
    expect(summary(value)).toEqual(["no-plaintext-secret-literal acme-us-sales-credentials"]);
    expect(value[0]!.message).toMatch(/^input integrations\.drive\.value of tenancy:postgres:WorkspaceCredentials "acme-us-sales-credentials" /);
    expect(value[0]!.message).not.toContain(TOKEN);
  });

  it("refuses the tenancy provider's admin password or master key sent in clear", async () => {
    const unmarked = changed(dev, "acme-provider", (s) => ({ ...s, secret: [] }));
    expect(summary(await runPack(unmarked))).toEqual(["no-plaintext-secret-literal acme-provider", "no-plaintext-secret-literal acme-provider"]);
    const unmarkedKey = changed(dev, "acme-provider", (s) => ({ ...s, secret: [["password"]] }));
    const reported = await runPack(unmarkedKey);
    expect(summary(reported)).toEqual(["no-plaintext-secret-literal acme-provider"]);
    expect(reported[0]!.message).toMatch(/^input credentialsMasterKey of /);
  });

  it("finds the engine's secret markers in a serialized property map", () => {
    const sig = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "v" };
    expect(findSecretPaths({ a: sig, b: [1, { c: sig }], d: "x" })).toEqual([["a"], ["b", 1, "c"]]);
  });
});

describe("notACredential", () => {
  it("takes file paths, ARNs, lower-case paths and prose for names, and tokens for credentials", async () => {
    const { notACredential } = await import("../../../policies/secrets.ts");
    for (const name of ["/tmp/tenancy-e2e-policy-AbC12x/tenancy.yaml", "arn:aws:kms:eu-west-1:1:key/Ab+c", "alias/tenancy/acme/emea", "CREATE TABLE t (a int)"]) expect(notACredential(name)).toBe(true);
    for (const secret of ["xoxb-1234567890-abcdefghijkl", "F71lmTp3t+/EVoE/18ymJrlcq8O+2NpP/ldce7t1Bi8=", "-----BEGIN PRIVATE KEY-----\nabc"]) expect(notACredential(secret)).toBe(false);
  });
});
