// The IAM policy that lets the SaaS read one workspace's integration credentials and nothing
// else. Pure (strings in, document out) so the boundary is tested without Pulumi or AWS.

/** Read-only actions on a workspace's secrets. */
export const SECRET_READ_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"] as const;
/** The only KMS action reading needs: Secrets Manager decrypts with the caller's permission. */
export const KEY_READ_ACTIONS = ["kms:Decrypt"] as const;

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

export interface WorkspaceReadPolicyInput {
  /** ARNs of this workspace's secrets, exactly as AWS returned them (with their random suffix). */
  readonly secretArns: readonly string[];
  /** ARN of this workspace's KMS key (not an alias: an alias can be repointed). */
  readonly keyArn: string;
}

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[\x21-\x7e]+$/;

/** Why an ARN cannot appear in a workspace policy, or undefined. */
export function arnProblem(arn: string, service: "secretsmanager" | "kms"): string | undefined {
  if (!ARN.test(arn)) return `${JSON.stringify(arn)} is not an AWS ARN`;
  if (arn.split(":")[2] !== service) return `${JSON.stringify(arn)} is not a ${service} ARN`;
  // A wildcard would reach other workspaces' secrets (tenancy/acme/emea* matches emea-support).
  if (/[*?]/.test(arn)) return `${JSON.stringify(arn)} contains a wildcard`;
  return undefined;
}

/**
 * The document allowing GetSecretValue/DescribeSecret on exactly `secretArns` and kms:Decrypt on
 * exactly `keyArn`. Throws on an ARN that is not an exact ARN of the right service: a caller
 * bug, never user input. A workspace without secrets gets only the key statement.
 */
export function workspaceReadPolicy(input: WorkspaceReadPolicyInput): PolicyDocument {
  const secrets = [...new Set(input.secretArns)].sort();
  const problems = [
    ...secrets.map((arn) => arnProblem(arn, "secretsmanager")),
    arnProblem(input.keyArn, "kms"),
    /:key\//.test(input.keyArn) ? undefined : `${JSON.stringify(input.keyArn)} is not a KMS key ARN`,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new Error(`cannot build the workspace read policy: ${problems.join("; ")}`);

  const statements: PolicyStatement[] = [];
  if (secrets.length > 0) {
    statements.push({ Sid: "ReadWorkspaceSecrets", Effect: "Allow", Action: [...SECRET_READ_ACTIONS], Resource: secrets });
  }
  statements.push({ Sid: "DecryptWithWorkspaceKey", Effect: "Allow", Action: [...KEY_READ_ACTIONS], Resource: [input.keyArn] });
  return { Version: "2012-10-17", Statement: statements };
}

/** The AWS names and tags of one workspace's credentials (what WorkspaceSecrets creates). */
export interface WorkspaceAwsNames {
  /** `alias/tenancy/<org>/<workspace>`, pointing at the workspace's KMS key. */
  readonly alias: string;
  /** Every secret of the workspace starts with `tenancy/<org>/<workspace>/`. */
  readonly secretPrefix: string;
  /** The IAM read policy's name and path. */
  readonly policyName: string;
  readonly policyPath: string;
  /** Tags on the key, the secrets and the policy. */
  readonly tags: Readonly<Record<string, string>>;
  /** The secret of one integration: `tenancy/<org>/<workspace>/<slug>`. */
  secretName(integration: string): string;
}

export const TAG_ORGANIZATION = "tenancy:organization";
export const TAG_WORKSPACE = "tenancy:workspace";
export const TAG_INTEGRATION = "tenancy:integration";

/** The same names components/workspace-secrets.ts gives (test/components/workspace-secrets.test.ts holds them equal). */
export function workspaceAwsNames(organization: string, workspace: string): WorkspaceAwsNames {
  return {
    alias: `alias/tenancy/${organization}/${workspace}`,
    secretPrefix: `tenancy/${organization}/${workspace}/`,
    policyName: `tenancy-${organization}-${workspace}-credentials-read`,
    policyPath: `/tenancy/${organization}/`,
    tags: { [TAG_ORGANIZATION]: organization, [TAG_WORKSPACE]: workspace, "tenancy:managed-by": "tenancy-as-code" },
    secretName: (integration) => `tenancy/${organization}/${workspace}/${integration}`,
  };
}
