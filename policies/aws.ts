// AWS policies: a workspace's secrets are encrypted with its own KMS key, IAM policies reach only
// their own workspace's secrets, and every taggable workspace resource says which organization
// and workspace it belongs to. Stack policies: ownership comes from the resource tree (the
// nearest Workspace component) and from tags; key references from property dependencies, which
// are known even in a preview where ARNs are not.
import type { ReportViolation, StackValidationPolicy, StackValidationArgs } from "@pulumi/policy";
import { ORG_TAG, Token, WORKSPACE_TAG } from "./tokens.ts";
import { nearest, propsOf, record, str, type ResourceView } from "./view.ts";

const quote = (value: unknown) => JSON.stringify(value);

/** A workspace's identity: "<org>/<ws>". */
export function workspaceOf(resource: ResourceView): string | undefined {
  const ws = resource.type === Token.Workspace ? resource : nearest(resource, [Token.Workspace]);
  if (ws) {
    const out = propsOf(ws);
    const org = str(out.organization);
    const slug = str(out.slug);
    if (org && slug) return `${org}/${slug}`;
  }
  const tags = record(propsOf(resource).tags);
  const org = str(tags?.[ORG_TAG]);
  const slug = str(tags?.[WORKSPACE_TAG]);
  return org && slug ? `${org}/${slug}` : undefined;
}

function resourcesOf(args: Pick<StackValidationArgs, "resources">): ResourceView[] {
  return args.resources as unknown as ResourceView[];
}

/** KMS keys by every string that can name them (ARN, key id, alias name). */
function keyIndex(resources: readonly ResourceView[]): Map<string, ResourceView> {
  const index = new Map<string, ResourceView>();
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const r of resources) {
    const p = propsOf(r);
    if (r.type === Token.KmsKey) for (const k of [p.arn, p.keyId, p.id]) if (str(k)) index.set(str(k)!, r);
  }
  for (const r of resources) {
    if (r.type !== Token.KmsAlias) continue;
    const p = propsOf(r);
    const target = r.propertyDependencies?.targetKeyId?.[0] ?? (str(p.targetKeyId) ? index.get(str(p.targetKeyId)!) : undefined);
    const key = target && byUrn.get(target.urn);
    if (!key) continue;
    for (const name of [p.name, p.arn]) if (str(name)) index.set(str(name)!, key);
  }
  return index;
}

export const secretKeyWithinWorkspace: StackValidationPolicy = {
  name: "secret-key-within-workspace",
  description: "Checks that every Secrets Manager secret of a workspace is encrypted with that workspace's own KMS key.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Set the secret's kmsKeyId to the KMS key of its own workspace (WorkspaceSecrets creates one per workspace).",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const resources = resourcesOf(args);
    const keys = keyIndex(resources);
    for (const secret of resources) {
      if (secret.type !== Token.Secret) continue;
      const home = workspaceOf(secret);
      if (!home) continue;
      const ref = str(propsOf(secret).kmsKeyId);
      const key = secret.propertyDependencies?.kmsKeyId?.find((d) => d.type === Token.KmsKey || d.type === Token.KmsAlias) ?? (ref ? keys.get(ref) : undefined);
      const owner = key ? workspaceOf(key.type === Token.KmsAlias ? (keys.get(str(propsOf(key).name) ?? "") ?? key) : key) : undefined;
      if (owner && owner !== home) report(`secret ${quote(secret.name)} of workspace ${quote(home)} must be encrypted with its own workspace's KMS key; it uses key ${quote(key!.name)} of workspace ${quote(owner)}`, secret.urn);
    }
  },
};

/** Every Resource/NotResource string of an IAM policy document; undefined when it is not known. */
export function policyResources(document: unknown): string[] | undefined {
  let doc = document;
  if (typeof doc === "string") {
    try { doc = JSON.parse(doc); } catch { return undefined; }
  }
  const statements = record(doc)?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const out: string[] = [];
  for (const s of list) {
    for (const field of ["Resource", "NotResource"]) {
      const value = record(s)?.[field];
      for (const v of Array.isArray(value) ? value : [value]) if (typeof v === "string") out.push(v);
    }
  }
  return out;
}

/** The workspaces ("<org>/<ws>") a Secrets Manager ARN names, or "*" when a wildcard reaches beyond one. */
export function secretArnWorkspace(arn: string): string | undefined {
  const m = /^arn:[^:]*:secretsmanager:[^:]*:[^:]*:secret:(.*)$/.exec(arn) ?? (arn === "*" ? ["", "*"] : null);
  if (!m) return undefined;
  const name = m[1]!;
  const exact = /^tenancy\/([a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)\//.exec(name);
  if (exact) return `${exact[1]}/${exact[2]}`;
  // A wildcard before the workspace segment is complete reaches every workspace it matches.
  return /[*?]/.test(name) ? "*" : undefined;
}

export const iamPolicyWithinWorkspace: StackValidationPolicy = {
  name: "iam-policy-within-workspace",
  description: "Checks that no IAM policy of a workspace reaches another workspace's secrets or KMS key, by ARN, by wildcard or by reference.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "List only the workspace's own secret ARNs and key ARN, without wildcards (components/aws-policy.ts builds such a document).",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const resources = resourcesOf(args);
    const keys = keyIndex(resources);
    for (const policy of resources) {
      if (policy.type !== Token.IamPolicy && policy.type !== Token.IamRolePolicy) continue;
      const home = workspaceOf(policy);
      const reached = new Map<string, string>(); // workspace -> what reaches it
      for (const dep of policy.propertyDependencies?.policy ?? []) {
        if (dep.type !== Token.Secret && dep.type !== Token.KmsKey) continue;
        const owner = workspaceOf(dep);
        if (owner) reached.set(owner, dep.name);
      }
      for (const arn of policyResources(propsOf(policy).policy) ?? []) {
        const owner = secretArnWorkspace(arn) ?? (keys.get(arn) ? workspaceOf(keys.get(arn)!) : undefined);
        if (owner) reached.set(owner, arn);
      }
      for (const [owner, what] of reached) {
        if (owner === home) continue;
        if (home === undefined && owner !== "*" && reached.size === 1) continue; // outside any workspace, one workspace's secrets
        const whose = owner === "*" ? "every workspace" : `workspace ${quote(owner)}`;
        report(`IAM policy ${quote(policy.name)}${home ? ` of workspace ${quote(home)}` : ""} must reach only its own workspace's secrets; ${quote(what)} reaches ${whose}`, policy.urn);
      }
    }
  },
};

/** AWS types that take no tags. */
const UNTAGGABLE = new Set<string>([Token.KmsAlias, Token.SecretVersion, Token.IamRolePolicy, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment"]);

export const workspaceResourceTagged: StackValidationPolicy = {
  name: "workspace-resource-tagged",
  description: `Checks that every taggable AWS resource of a workspace carries the ${ORG_TAG} and ${WORKSPACE_TAG} tags of its workspace.`,
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: `Tag the resource with ${ORG_TAG}=<organization slug> and ${WORKSPACE_TAG}=<workspace slug> (WorkspaceSecrets tags everything it creates).`,
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    for (const r of resourcesOf(args)) {
      if (!r.type.startsWith("aws:") || UNTAGGABLE.has(r.type)) continue;
      const ws = nearest(r, [Token.Workspace]);
      if (!ws) continue;
      const out = propsOf(ws);
      const expected = { [ORG_TAG]: str(out.organization), [WORKSPACE_TAG]: str(out.slug) };
      const p = propsOf(r);
      const tags = record(p.tags);
      if (p.tags !== undefined && !tags) continue; // not known yet
      const wrong = Object.entries(expected).filter(([tag, value]) => value !== undefined && tags?.[tag] !== value);
      if (wrong.length > 0) report(`${r.type} ${quote(r.name)} must be tagged ${wrong.map(([tag, value]) => `${tag}=${value}`).join(", ")}; got ${wrong.map(([tag]) => `${tag}=${tags?.[tag] === undefined ? "(missing)" : String(tags[tag])}`).join(", ")}`, r.urn);
    }
  },
};

export const awsPolicies: readonly StackValidationPolicy[] = [secretKeyWithinWorkspace, iamPolicyWithinWorkspace, workspaceResourceTagged];
