// Reads one organization's integration-credential resources from AWS, metadata only: KMS keys
// reached through the toolkit's aliases (and any key a secret names), Secrets Manager secrets
// by name prefix and by organization tag (ListSecrets: names, ARNs, keys, tags; never a
// value: GetSecretValue is never called), and IAM policies under the organization's path.
//
// Cost: list calls are paginated (a few per hundred resources); KMS has no batch describe, so
// each key found costs one DescribeKey and one ListResourceTags, and each policy one
// GetPolicyVersion and one ListPolicyTags. Every call is counted.
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListResourceTagsCommand } from "@aws-sdk/client-kms";
import { ListSecretsCommand, SecretsManagerClient, type Filter } from "@aws-sdk/client-secrets-manager";
import { GetPolicyVersionCommand, IAMClient, ListPoliciesCommand, ListPolicyTagsCommand } from "@aws-sdk/client-iam";
import { TAG_ORGANIZATION, workspaceAwsNames } from "../components/aws-policy.ts";

export interface AwsKey {
  readonly keyId: string;
  readonly arn: string;
  readonly enabled: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /** The toolkit's aliases pointing at it. */
  readonly aliases: readonly string[];
}

export interface AwsSecret {
  readonly name: string;
  readonly arn: string;
  /** As Secrets Manager reports it (an ARN, key id or alias); absent: the AWS-managed key. */
  readonly kmsKeyId?: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface AwsPolicy {
  readonly name: string;
  readonly arn: string;
  readonly path: string;
  /** The default version's document, parsed. */
  readonly document: unknown;
  readonly tags: Readonly<Record<string, string>>;
}

export interface AwsLiveState {
  readonly keys: readonly AwsKey[];
  readonly secrets: readonly AwsSecret[];
  readonly policies: readonly AwsPolicy[];
}

export interface AwsClients {
  readonly kms: KMSClient;
  readonly secrets: SecretsManagerClient;
  readonly iam: IAMClient;
}

/** Clients from the standard AWS environment (region, credentials, AWS_ENDPOINT_URL). */
export function awsClientsFromEnvironment(region?: string): AwsClients {
  const config = region === undefined ? {} : { region };
  return { kms: new KMSClient(config), secrets: new SecretsManagerClient(config), iam: new IAMClient(config) };
}

const tagsOf = (list: readonly { Key?: string; Value?: string; TagKey?: string; TagValue?: string }[] | undefined) =>
  Object.fromEntries((list ?? []).map((t) => [t.Key ?? t.TagKey ?? "", t.Value ?? t.TagValue ?? ""]));

export async function readAws(clients: AwsClients, organization: string): Promise<{ state: AwsLiveState; calls: number }> {
  let calls = 0;
  const send = <T>(p: () => Promise<T>) => { calls++; return p(); };
  const aliasPrefix = workspaceAwsNames(organization, "").alias;
  const policyPath = workspaceAwsNames(organization, "").policyPath;
  // `tenancy/<org>/` (a workspace's prefix with an empty workspace is `tenancy/<org>//`).
  const secretPrefix = workspaceAwsNames(organization, "").secretPrefix.slice(0, -1);

  const aliasesByKey = new Map<string, string[]>();
  let marker: string | undefined;
  do {
    const page = await send(() => clients.kms.send(new ListAliasesCommand({ Marker: marker, Limit: 100 })));
    for (const a of page.Aliases ?? []) {
      if (!a.AliasName?.startsWith(aliasPrefix) || !a.TargetKeyId) continue;
      aliasesByKey.set(a.TargetKeyId, [...(aliasesByKey.get(a.TargetKeyId) ?? []), a.AliasName]);
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);

  const secrets = new Map<string, AwsSecret>();
  for (const filters of [[{ Key: "name", Values: [secretPrefix] }], [{ Key: "tag-key", Values: [TAG_ORGANIZATION] }, { Key: "tag-value", Values: [organization] }]] as Filter[][]) {
    let token: string | undefined;
    do {
      const page = await send(() => clients.secrets.send(new ListSecretsCommand({ Filters: filters, NextToken: token, MaxResults: 100 })));
      for (const s of page.SecretList ?? []) {
        if (!s.ARN || !s.Name) continue;
        secrets.set(s.ARN, { name: s.Name, arn: s.ARN, ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}), tags: tagsOf(s.Tags) });
      }
      token = page.NextToken;
    } while (token);
  }
  // The name filter matches prefixes anywhere in a name; keep what is really ours.
  const ours = [...secrets.values()].filter((s) => s.name.startsWith(secretPrefix) || s.tags[TAG_ORGANIZATION] === organization);

  const keyIds = new Set([...aliasesByKey.keys(), ...ours.flatMap((s) => (s.kmsKeyId ? [s.kmsKeyId] : []))]);
  const keys = new Map<string, AwsKey>();
  for (const id of keyIds) {
    const described = await send(() => clients.kms.send(new DescribeKeyCommand({ KeyId: id }))).catch(() => undefined);
    const meta = described?.KeyMetadata;
    if (!meta?.KeyId || !meta.Arn || keys.has(meta.KeyId)) continue;
    const tags = await send(() => clients.kms.send(new ListResourceTagsCommand({ KeyId: meta.KeyId })));
    keys.set(meta.KeyId, {
      keyId: meta.KeyId, arn: meta.Arn, enabled: meta.KeyState === "Enabled", tags: tagsOf(tags.Tags),
      aliases: [...(aliasesByKey.get(meta.KeyId) ?? []), ...(aliasesByKey.get(meta.Arn) ?? [])].sort(),
    });
  }

  const policies: AwsPolicy[] = [];
  let policyMarker: string | undefined;
  do {
    const page = await send(() => clients.iam.send(new ListPoliciesCommand({ Scope: "Local", PathPrefix: policyPath, Marker: policyMarker, MaxItems: 100 })));
    for (const p of page.Policies ?? []) {
      if (!p.Arn || !p.PolicyName || !p.DefaultVersionId) continue;
      const version = await send(() => clients.iam.send(new GetPolicyVersionCommand({ PolicyArn: p.Arn, VersionId: p.DefaultVersionId })));
      const tags = await send(() => clients.iam.send(new ListPolicyTagsCommand({ PolicyArn: p.Arn })));
      const raw = version.PolicyVersion?.Document ?? "{}";
      policies.push({ name: p.PolicyName, arn: p.Arn, path: p.Path ?? "/", document: JSON.parse(raw.trimStart().startsWith("{") ? raw : decodeURIComponent(raw)), tags: tagsOf(tags.Tags) });
    }
    policyMarker = page.IsTruncated ? page.Marker : undefined;
  } while (policyMarker);

  return { state: { keys: [...keys.values()], secrets: ours.sort((a, b) => a.name.localeCompare(b.name)), policies }, calls };
}
