// A workspace's integration credentials, inside the workspace's boundary: with AWS, a KMS key
// and Secrets Manager secrets of its own plus an IAM policy reading only those; without AWS
// (the embedded default), rows sealed with a per-workspace data key in the workspace's schema
// (provider/resources/credentials.ts describes that scheme).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { IntegrationDecl } from "../config/schema.ts";
import { credentialKey } from "../config/secrets.ts";
import { workspaceReadPolicy } from "./aws-policy.ts";

export const WORKSPACE_SECRETS_TYPE = "tenancy:index:WorkspaceSecrets";

export interface WorkspaceSecretsArgs {
  /** Organization slug; names and tags every resource. */
  readonly organization: string;
  /** Workspace slug; names and tags every resource. */
  readonly workspace: string;
  /**
   * The workspace's integrations. Each `credentialsSecret` names a Pulumi secret config key
   * (`key`, in the `credentials:` namespace, or `namespace:key`); the value is read as a secret
   * and never leaves the workspace's key. Default: none.
   */
  readonly integrations?: readonly IntegrationDecl[];
  /** Must be true: credentials in AWS KMS + Secrets Manager (without AWS, Workspace seals them into PostgreSQL). */
  readonly aws?: boolean;
  /** AWS only: days a deleted key waits before it is gone (7 to 30). Default 30. */
  readonly kmsDeletionWindowInDays?: number;
  /** AWS only: extra tags on every AWS resource; cannot override the tenancy:* tags. Default none. */
  readonly tags?: Readonly<Record<string, string>>;
  /** The stack's config, when the caller has read it already (stackConfig). Default: read here. */
  readonly config?: ConfigValues;
}

/** The stack's config values by full key (`namespace:key`). */
export type ConfigValues = Readonly<Record<string, string>>;

/**
 * The stack's config, parsed once. Every `pulumi.Config` read parses the whole config again, and
 * the config holds one secret per integration: at 1,000 workspaces the program's two reads per
 * integration parsed it 2,000 times (about a second of the program's CPU, growing with the square).
 */
export function stackConfig(): ConfigValues {
  return pulumi.runtime.allConfig();
}

let warnedLegacy = false;

/**
 * Reads the secret config value an integration names; never its value in an error. A name
 * without a namespace is read from `credentials:`, else, as before that namespace existed, from
 * the project's, with one warning per run saying how to move it.
 */
export function credentialValue(reference: string, propertyPath: string, config: ConfigValues = stackConfig()): pulumi.Output<string> {
  const full = credentialKey(reference);
  let value = config[full];
  if (value === undefined && full !== reference) {
    const legacy = `${pulumi.getProject()}:${reference}`;
    value = config[legacy];
    if (value !== undefined && !warnedLegacy) {
      warnedLegacy = true;
      pulumi.log.warn(`integration credentials are read from the project's config namespace ("${legacy}"); move each to "${full}" (\`pulumi config set --secret ${full}\` with the value, then \`pulumi config rm ${legacy}\`): the engine puts the "${pulumi.getProject()}:" namespace, decrypted, into the environment of a provider plugin of that name, where past 128 KiB it can no longer start`);
    }
  }
  if (value === undefined) {
    throw new pulumi.InputPropertyError({ propertyPath, reason: `the secret config value "${full}" is not set; run \`pulumi config set --secret ${full}\`` });
  }
  return pulumi.secret(value);
}

export class WorkspaceSecrets extends pulumi.ComponentResource {
  /** Where the credentials live. */
  public readonly backend: "aws";
  /** AWS: the workspace's key, its read policy, and each integration's secret ARN by slug. */
  public readonly keyArn?: pulumi.Output<string>;
  public readonly policyArn?: pulumi.Output<string>;
  public readonly secretArns?: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: WorkspaceSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(WORKSPACE_SECRETS_TYPE, name, {}, opts);
    const integrations = args.integrations ?? [];
    const seen = new Set<string>();
    for (const [i, integration] of integrations.entries()) {
      if (seen.has(integration.slug)) {
        throw new pulumi.InputPropertyError({ propertyPath: `integrations[${i}].slug`, reason: `integration slug "${integration.slug}" appears twice in workspace "${args.workspace}"` });
      }
      seen.add(integration.slug);
    }
    const config = args.config ?? stackConfig();
    const values = new Map(integrations.map((x, i) => [x.slug, credentialValue(x.credentialsSecret, `integrations[${i}].credentialsSecret`, config)]));

    if (args.aws) {
      this.backend = "aws";
      const made = this.inAws(name, args, integrations, values);
      this.keyArn = made.keyArn;
      this.policyArn = made.policyArn;
      this.secretArns = made.secretArns;
      this.registerOutputs({ backend: this.backend, keyArn: this.keyArn, policyArn: this.policyArn, secretArns: this.secretArns });
    } else {
      // Without AWS a workspace's credentials are one WorkspaceCredentials resource (Workspace).
      throw new pulumi.InputPropertyError({ propertyPath: "aws", reason: "WorkspaceSecrets keeps credentials in AWS; without AWS the Workspace seals them into PostgreSQL itself" });
    }
  }

  private inAws(name: string, args: WorkspaceSecretsArgs, integrations: readonly IntegrationDecl[], values: Map<string, pulumi.Output<string>>) {
    const { organization: org, workspace: ws } = args;
    const tags = { ...args.tags, "tenancy:organization": org, "tenancy:workspace": ws, "tenancy:managed-by": "tenancy-as-code" };
    const key = new aws.kms.Key(`${name}-key`, {
      description: `Integration credentials of workspace "${ws}" in organization "${org}" (tenancy-as-code)`,
      enableKeyRotation: true,
      deletionWindowInDays: args.kmsDeletionWindowInDays ?? 30,
      tags,
    }, { parent: this });
    // KMS aliases take no tags; the alias only names the key it points to, which is tagged.
    new aws.kms.Alias(`${name}-alias`, { name: `alias/tenancy/${org}/${ws}`, targetKeyId: key.keyId }, { parent: this });

    const secrets = integrations.map((integration) => {
      const secret = new aws.secretsmanager.Secret(`${name}-${integration.slug}-secret`, {
        name: `tenancy/${org}/${ws}/${integration.slug}`,
        description: `${integration.provider} credentials of integration "${integration.slug}" in workspace "${ws}"`,
        kmsKeyId: key.arn,
        tags: { ...tags, "tenancy:integration": integration.slug, "tenancy:provider": integration.provider },
      }, { parent: this });
      new aws.secretsmanager.SecretVersion(`${name}-${integration.slug}-secret-version`, {
        secretId: secret.id,
        secretString: pulumi.secret(values.get(integration.slug)!),
      }, { parent: this });
      return [integration.slug, secret.arn] as const;
    });

    const secretArns = pulumi.all(Object.fromEntries(secrets));
    const policy = new aws.iam.Policy(`${name}-read-policy`, {
      name: `tenancy-${org}-${ws}-credentials-read`,
      path: `/tenancy/${org}/`,
      description: `Reads the integration credentials of workspace "${ws}" in organization "${org}" and nothing else`,
      policy: pulumi.all([key.arn, secretArns]).apply(([keyArn, arns]) =>
        JSON.stringify(workspaceReadPolicy({ keyArn, secretArns: Object.values(arns) }))),
      tags,
    }, { parent: this });
    return { keyArn: key.arn, policyArn: policy.arn, secretArns };
  }
}
