// Happy-path resource sets shaped like what the engine sends for the real stack program: the
// same components, children, names, inputs and registered outputs, built with the components'
// own pure helpers (names, grants, record args).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../../../components/control-plane/args.ts";
import { migrationInputs } from "../../../components/control-plane/migrations.ts";
import { workspaceGrants } from "../../../components/grants.ts";
import { CONTROL_SCHEMA, workspaceNames } from "../../../components/naming.ts";
import { CONTROL_PLANE_TYPE, WORKSPACE_CREDENTIALS_TYPE } from "../../../components/resources.ts";
import { loadDeclaration } from "../../../config/load.ts";
import type { TenancyModel } from "../../../config/model.ts";
import { DEFAULT_APP_CONNECTION_LIMIT } from "../../../config/schema.ts";
import { Token } from "../../../policies/tokens.ts";
import { STACK, type Spec } from "./harness.ts";

const root = join(import.meta.dirname, "../../..");

export function stackModel(stack: "dev" | "agency"): TenancyModel {
  const file = join(root, "stacks", stack, "tenancy.yaml");
  const loaded = loadDeclaration(readFileSync(file, "utf8"), file);
  if (!loaded.ok || !loaded.model) throw new Error(`${file} must load`);
  return loaded.model;
}

/** The tenancy provider's configuration: the admin connection, its password a secret. */
const providerConfig = { host: "127.0.0.1", port: "54329", user: "tenancy_admin", database: "tenancy", password: "AgsS2q8ZxWm4Vt0pLrK7yNcB", credentialsMasterKey: "m2Jd8Vq0bX7tLr4Kp1sNzA9cWy6eHfU3oGiT5lRaQ0E=" };
/** What components/credentials-crypto.ts deriveAppPassword returns: 32 bytes, base64url. */
export const APP_PASSWORD = "q2fJ0Xw7c1bN8rTz-5LmVYa9KsD3eHgPuWnE6oRiC4k";

export interface FixtureOptions {
  /** Credentials in AWS (KMS key, alias, secrets, read policy) instead of PostgreSQL. */
  readonly aws?: boolean;
}

/** The resources of one workspace, as Organization/Workspace register them. */
export function workspaceSpecs(model: TenancyModel, index: number, options: FixtureOptions = {}): Spec[] {
  const org = model.organization!;
  const ws = model.workspaces[index]!;
  const name = `${org.slug}-${ws.slug}`;
  const names = workspaceNames(org.slug, ws.slug);
  const protect = !ws.decommissioned;
  const limit = ws.connectionLimit ?? org.connectionLimit ?? DEFAULT_APP_CONNECTION_LIMIT;
  const child = (spec: Omit<Spec, "protect">): Spec => ({ protect, ...spec });
  const specs: Spec[] = [
    { type: Token.Workspace, name, parent: org.slug, protect, props: {
      slug: ws.slug, organization: org.slug, decommissioned: ws.decommissioned,
      ...(ws.plan !== undefined ? { plan: ws.plan } : {}),
      ...(ws.creditPool ? { creditPool: { monthlyAllowance: ws.creditPool.monthlyAllowance } } : {}),
      schema: names.schema, appRole: names.app, connectionLimit: limit,
      members: Object.fromEntries(ws.members.map((m) => [m.key, m.role])),
      integrations: Object.fromEntries(ws.integrations.map((i) => [i.slug, { provider: i.provider, credentialsSecret: i.credentialsSecret }])),
    } },
    child({ type: Token.WorkspaceBoundary, name: `${name}-boundary`, parent: name, props: {
      organization: org.slug, workspace: ws.slug, names, database: "tenancy", passwordGeneration: "1", connectionLimit: limit,
      grants: Object.fromEntries(workspaceGrants(names, "tenancy").map(({ id, ...g }) => [id, g])),
    } }),
    child({ type: Token.WorkspaceRecord, name: `${name}-record`, parent: name, props: { ...workspaceRecordArgs(model, ws, { decommissioned: ws.decommissioned }), members: workspaceMembersArgs(model, ws).members } }),
  ];
  if (!options.aws) {
    // One per workspace, integrations or not (components/workspace.ts).
    specs.push(child({
      type: WORKSPACE_CREDENTIALS_TYPE, name: `${name}-credentials`, parent: name,
      secret: ws.integrations.map((i) => ["integrations", i.slug, "value"]),
      props: {
        organization: org.slug, workspace: ws.slug, names: { schema: names.schema, owner: names.owner, app: names.app }, keyGeneration: "1",
        integrations: Object.fromEntries(ws.integrations.map((i) => [i.slug, { provider: i.provider, value: "xoxb-1234567890-abcdefghijkl" }])),
      },
    }));
    return specs;
  }
  if (ws.integrations.length === 0) return specs;
  const secrets = `${name}-secrets`;
  specs.push(child({ type: Token.WorkspaceSecrets, name: secrets, parent: name, props: { backend: "aws" } }));
  const tags = { "tenancy:organization": org.slug, "tenancy:workspace": ws.slug, "tenancy:managed-by": "tenancy-as-code" };
  const account = "arn:aws:kms:eu-west-1:123456789012";
  const keyArn = `${account}:key/${ws.slug}-0000-1111`;
  specs.push(
    child({ type: Token.KmsKey, name: `${secrets}-key`, parent: secrets, props: { description: `Integration credentials of workspace "${ws.slug}"`, enableKeyRotation: true, deletionWindowInDays: 30, tags, arn: keyArn } }),
    child({ type: Token.KmsAlias, name: `${secrets}-alias`, parent: secrets, props: { name: `alias/tenancy/${org.slug}/${ws.slug}`, targetKeyId: `${ws.slug}-0000-1111` }, deps: { targetKeyId: [`${secrets}-key`] } }),
  );
  const arns: string[] = [];
  for (const i of ws.integrations) {
    const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenancy/${org.slug}/${ws.slug}/${i.slug}-AbCdEf`;
    arns.push(arn);
    specs.push(
      child({ type: Token.Secret, name: `${secrets}-${i.slug}-secret`, parent: secrets, props: { name: `tenancy/${org.slug}/${ws.slug}/${i.slug}`, kmsKeyId: keyArn, tags: { ...tags, "tenancy:integration": i.slug } }, deps: { kmsKeyId: [`${secrets}-key`] } }),
      child({ type: Token.SecretVersion, name: `${secrets}-${i.slug}-secret-version`, parent: secrets, props: { secretId: arn, secretString: "xoxb-1234567890-abcdefghijkl" }, secret: [["secretString"]] }),
    );
  }
  specs.push(child({ type: Token.IamPolicy, name: `${secrets}-read-policy`, parent: secrets, deps: { policy: [`${secrets}-key`, ...ws.integrations.map((i) => `${secrets}-${i.slug}-secret`)] }, props: {
    name: `tenancy-${org.slug}-${ws.slug}-credentials-read`, path: `/tenancy/${org.slug}/`, tags,
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "ReadWorkspaceSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arns }, { Sid: "DecryptWithWorkspaceKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [keyArn] }] }),
  } }));
  return specs;
}

/** The whole stack: Stack, Organization, its provider, control plane and record, every workspace. */
export function stackSpecs(model: TenancyModel, options: FixtureOptions = {}): Spec[] {
  const org = model.organization!;
  return [
    { type: STACK, name: "tenancy-test" },
    { type: Token.Organization, name: org.slug, parent: "tenancy-test", props: { slug: org.slug, billingMode: org.billing.mode, membership: org.membership, workspaces: model.workspaces.map((w) => w.slug).sort() } },
    { type: "pulumi:providers:tenancy", name: `${org.slug}-provider`, parent: org.slug, secret: [["password"], ["credentialsMasterKey"]], props: { ...providerConfig } },
    { type: CONTROL_PLANE_TYPE, name: `${org.slug}-control-plane`, parent: org.slug, props: { schema: CONTROL_SCHEMA, database: "tenancy", migrations: migrationInputs() } },
    { type: Token.OrganizationRecord, name: `${org.slug}-record`, parent: org.slug, props: { ...organizationRecordArgs(model) } },
    ...model.workspaces.flatMap((_, i) => workspaceSpecs(model, i, options)),
  ];
}

/** A copy of `specs` with the spec named `name` changed by `change`. */
export function changed(specs: readonly Spec[], name: string, change: (spec: Spec) => Spec | undefined): Spec[] {
  if (!specs.some((s) => s.name === name)) throw new Error(`no resource named ${name}`);
  return specs.flatMap((s) => (s.name === name ? [change(s)].filter((x): x is Spec => x !== undefined) : [s]));
}
