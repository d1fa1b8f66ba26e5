// The AWS half of the diff (with AWS enabled): per workspace with integrations, its KMS key and
// alias, one secret per integration under that key, and the read policy that
// components/aws-policy.ts writes for exactly those ARNs. Pure.
import type { TenancyModel } from "../config/model.ts";
import type { Path } from "../config/source.ts";
import { TAG_WORKSPACE, workspaceAwsNames, workspaceReadPolicy } from "../components/aws-policy.ts";
import { FindingClass as C, FindingId as Id, type Finding } from "./findings.ts";
import type { AwsKey, AwsLiveState } from "./read-aws.ts";

const q = (value: unknown) => JSON.stringify(value);

/** Every ARN a policy document names, wildcards included. */
function resourcesIn(document: unknown): string[] {
  const statements = (document as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.flatMap((s) => {
    const r = (s as { Resource?: unknown }).Resource;
    return (Array.isArray(r) ? r : r === undefined ? [] : [r]).map(String);
  });
}

/** Canonical JSON (sorted keys, single values as one-element lists) to compare documents. */
function canonical(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => {
      const x = (v as Record<string, unknown>)[k];
      return [k, (k === "Action" || k === "Resource") && !Array.isArray(x) ? [x] : norm(x)];
    }));
    return v;
  };
  return JSON.stringify(norm(value));
}

export function diffAws(model: TenancyModel, live: AwsLiveState): Finding[] {
  const org = model.organization!.slug;
  const findings: Finding[] = [];
  const add = (cls: Finding["class"], id: string, workspace: string | undefined, object: string, message: string, path: Path, extra: Pick<Finding, "declared" | "found"> = {}) =>
    findings.push({ class: cls, id, ...(workspace === undefined ? {} : { workspace }), object, message, ...extra, path });
  const keyBy = (ref: string | undefined): AwsKey | undefined => ref === undefined ? undefined
    : live.keys.find((k) => k.keyId === ref || k.arn === ref || k.aliases.includes(ref) || ref.endsWith(`:${k.aliases[0] ?? "\u0000"}`));
  const workspaceOfKey = new Map<string, string>();
  for (const ws of model.workspaces) {
    const alias = workspaceAwsNames(org, ws.slug).alias;
    const key = live.keys.find((k) => k.aliases.includes(alias));
    if (key) workspaceOfKey.set(key.keyId, ws.slug);
  }
  const claimedSecrets = new Set<string>();
  const claimedPolicies = new Set<string>();
  const claimedAliases = new Set<string>();

  model.workspaces.forEach((ws, w) => {
    if (ws.integrations.length === 0) return;
    const names = workspaceAwsNames(org, ws.slug);
    const at: Path = ["workspaces", w, "slug"];
    claimedAliases.add(names.alias);
    const key = live.keys.find((k) => k.aliases.includes(names.alias));
    if (!key) add(C.missing, Id.awsResourceMissing, ws.slug, `KMS alias ${q(names.alias)}`, `the KMS key of workspace ${q(ws.slug)} (alias ${q(names.alias)}) does not exist`, at);
    else {
      if (!key.enabled) add(C.changed, Id.awsResourceChanged, ws.slug, `KMS key ${q(key.arn)}`, `the KMS key of workspace ${q(ws.slug)} must be enabled; it is not`, at, { declared: "Enabled", found: "not enabled" });
      for (const [tag, value] of Object.entries(names.tags)) {
        if (key.tags[tag] !== value) add(C.changed, Id.awsResourceChanged, ws.slug, `KMS key ${q(key.arn)}`, `tag ${q(tag)} of the KMS key of workspace ${q(ws.slug)} is ${q(key.tags[tag] ?? null)}; declared ${q(value)}`, at, { declared: value, found: key.tags[tag] ?? null });
      }
    }
    const secretArns: string[] = [];
    ws.integrations.forEach((integration, i) => {
      const name = names.secretName(integration.slug);
      const path: Path = ["workspaces", w, "integrations", i];
      const secret = live.secrets.find((s) => s.name === name);
      if (!secret) { add(C.missing, Id.awsResourceMissing, ws.slug, `secret ${q(name)}`, `the secret ${q(name)} of integration ${q(integration.slug)} does not exist`, path); return; }
      claimedSecrets.add(secret.arn);
      secretArns.push(secret.arn);
      const under = keyBy(secret.kmsKeyId);
      const owner = under ? workspaceOfKey.get(under.keyId) : undefined;
      if (owner !== undefined && owner !== ws.slug) {
        add(C.boundary, Id.awsSecretKeyCrossesBoundary, ws.slug, `secret ${q(name)}`, `secret ${q(name)} is encrypted under workspace ${q(owner)}'s KMS key: each workspace's secrets must use its own key`, path);
      } else if (!key || !under || under.keyId !== key.keyId) {
        add(C.changed, Id.awsResourceChanged, ws.slug, `secret ${q(name)}`, `secret ${q(name)} must be encrypted under ${q(names.alias)}; found ${q(secret.kmsKeyId ?? "the AWS-managed key")}`, path, { declared: names.alias, found: secret.kmsKeyId ?? null });
      }
      if (secret.tags[TAG_WORKSPACE] !== ws.slug) add(C.changed, Id.awsResourceChanged, ws.slug, `secret ${q(name)}`, `tag ${q(TAG_WORKSPACE)} of secret ${q(name)} is ${q(secret.tags[TAG_WORKSPACE] ?? null)}; declared ${q(ws.slug)}`, path, { declared: ws.slug, found: secret.tags[TAG_WORKSPACE] ?? null });
    });
    const policy = live.policies.find((p) => p.name === names.policyName && p.path === names.policyPath);
    const object = `IAM policy ${q(`${names.policyPath}${names.policyName}`)}`;
    if (!policy) { add(C.missing, Id.awsResourceMissing, ws.slug, object, `the read policy of workspace ${q(ws.slug)} does not exist`, at); return; }
    claimedPolicies.add(policy.arn);
    const own = new Set([...secretArns, ...(key ? [key.arn] : [])]);
    // An ARN of this workspace's own names that no longer exists is stale, not foreign.
    const foreign = resourcesIn(policy.document).filter((arn) => !own.has(arn) && !(/^[^*?]*$/.test(arn) && arn.includes(`:secret:${names.secretPrefix}`)));
    if (foreign.length > 0) {
      add(C.boundary, Id.awsPolicyCrossesBoundary, ws.slug, object, `${object} reaches ${foreign.map((a) => q(a)).join(", ")}: it may name only workspace ${q(ws.slug)}'s own secrets and key, without wildcards`, at);
    } else if (key && canonical(policy.document) !== canonical(workspaceReadPolicy({ keyArn: key.arn, secretArns }))) {
      add(C.changed, Id.awsResourceChanged, ws.slug, object, `${object} differs from the document components/aws-policy.ts writes for this workspace's key and secrets`, at);
    }
  });

  const slugOf = (name: string) => name.split("/")[2];
  for (const s of live.secrets) {
    if (!claimedSecrets.has(s.arn)) add(C.unexpected, Id.awsResourceUnexpected, slugOf(s.name) ?? s.tags[TAG_WORKSPACE], `secret ${q(s.name)}`, `secret ${q(s.name)} belongs to the organization's names or tags but no declared integration has it`, ["workspaces"]);
  }
  for (const k of live.keys) {
    for (const alias of k.aliases) {
      if (!claimedAliases.has(alias)) add(C.unexpected, Id.awsResourceUnexpected, alias.split("/")[3], `KMS alias ${q(alias)}`, `KMS alias ${q(alias)} is under the organization's prefix but no declared workspace with integrations has it`, ["workspaces"]);
    }
  }
  for (const p of live.policies) {
    if (!claimedPolicies.has(p.arn)) add(C.unexpected, Id.awsResourceUnexpected, p.tags[TAG_WORKSPACE], `IAM policy ${q(`${p.path}${p.name}`)}`, `IAM policy ${q(`${p.path}${p.name}`)} is under the organization's path but no declared workspace has it`, ["workspaces"]);
  }
  return findings;
}
