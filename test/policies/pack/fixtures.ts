// Happy-path resource sets shaped like what the engine sends for the real stack program: the
// same components, children, names, inputs and registered outputs, built with the components'
// own pure helpers (names, grants, record args).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../../../components/control-plane/args.ts";
import { workspaceGrants } from "../../../components/grants.ts";
import { workspaceNames } from "../../../components/naming.ts";
import { loadDeclaration } from "../../../config/load.ts";
import type { TenancyModel } from "../../../config/model.ts";
import { Token } from "../../../policies/tokens.ts";
import { STACK, type Spec } from "./harness.ts";

const root = join(import.meta.dirname, "../../..");

export function stackModel(stack: "dev" | "agency"): TenancyModel {
  const file = join(root, "stacks", stack, "tenancy.yaml");
  const loaded = loadDeclaration(readFileSync(file, "utf8"), file);
  if (!loaded.ok || !loaded.model) throw new Error(`${file} must load`);
  return loaded.model;
}

const connection = { host: "127.0.0.1", port: 54329, user: "tenancy_admin", password: "AgsS2q8ZxWm4Vt0pLrK7yNcB", database: "tenancy" };
const withConnection = (props: Record<string, unknown>) => ({ ...props, connection });
const SECRET_CONNECTION = [["connection"]] as const;

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
  const child = (spec: Omit<Spec, "protect">): Spec => ({ protect, ...spec });
  const db = `${name}-database`;
  const specs: Spec[] = [
    { type: Token.Workspace, name, parent: org.slug, protect, props: {
      slug: ws.slug, organization: org.slug, decommissioned: ws.decommissioned, schema: names.schema, appRole: names.app,
      members: Object.fromEntries(ws.members.map((m) => [m.key, m.role])),
      integrations: Object.fromEntries(ws.integrations.map((i) => [i.slug, { provider: i.provider, credentialsSecret: i.credentialsSecret }])),
    } },
    child({ type: Token.WorkspaceDatabase, name: db, parent: name, props: { schema: names.schema, ownerRole: names.owner, appRole: names.app, readonlyRole: names.readonly, appPassword: "UNUSED", database: "tenancy" }, secret: [["appPassword"]] }),
    child({ type: "pulumi-nodejs:dynamic/tenancy:PgRole", name: `${db}-owner`, parent: db, props: withConnection({ name: names.owner, login: false }), secret: SECRET_CONNECTION }),
    child({ type: "pulumi-nodejs:dynamic/tenancy:PgSchema", name: `${db}-schema`, parent: db, props: withConnection({ name: names.schema, owner: names.owner, cascade: true }), secret: SECRET_CONNECTION }),
    child({ type: "pulumi-nodejs:dynamic/tenancy:RandomPassword", name: `${db}-app-password`, parent: db, props: { length: 32 } }),
    child({ type: "pulumi-nodejs:dynamic/tenancy:PgRole", name: `${db}-app`, parent: db, props: withConnection({ name: names.app, login: true, password: "Pl7HwllYYqZ5XqtesR7zsXbJ7Ye7i54E", reassignOwnedTo: names.owner }), secret: [["connection"], ["password"]] }),
    child({ type: "pulumi-nodejs:dynamic/tenancy:PgRole", name: `${db}-readonly`, parent: db, props: withConnection({ name: names.readonly, login: false, reassignOwnedTo: names.owner }), secret: SECRET_CONNECTION }),
    ...workspaceGrants(names, "tenancy").map((g) => child({ type: Token.PgGrant, name: `${db}-${g.id}`, parent: db, props: withConnection({ action: g.action, role: g.role, on: g.on, privileges: g.privileges }), secret: SECRET_CONNECTION })),
    child({ type: Token.WorkspaceRecord, name: `${name}-record`, parent: name, props: withConnection({ ...workspaceRecordArgs(model, ws, { decommissioned: ws.decommissioned }) }), secret: SECRET_CONNECTION }),
    child({ type: Token.WorkspaceMembers, name: `${name}-members`, parent: name, props: withConnection({ ...workspaceMembersArgs(model, ws) }), secret: SECRET_CONNECTION }),
  ];
  if (ws.integrations.length === 0) return specs;
  const secrets = `${name}-secrets`;
  specs.push(child({ type: Token.WorkspaceSecrets, name: secrets, parent: name, props: { backend: options.aws ? "aws" : "postgres" } }));
  if (!options.aws) {
    for (const i of ws.integrations) {
      specs.push(child({ type: "pulumi-nodejs:dynamic/tenancy:LocalCredential", name: `${secrets}-${i.slug}-credential`, parent: secrets, secret: [["connection"], ["key"], ["value"]], props: withConnection({
        slug: i.slug, provider: i.provider, value: "demo-placeholder-credential", key: "F71lmTp3t+/EVoE/18ymJrlcq8O+2NpP/ldce7t1Bi8=", schema: names.schema, owner: names.owner, app: names.app,
        digest: "6410ae4e0b88f446b662ac4fd198fed7d7a8a367966cca5690f7a74779a02711", keyId: "dk1-8038d565c7443ea5",
      }) }));
    }
    return specs;
  }
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

/** The whole stack: Stack, Organization, its control plane and record, every workspace. */
export function stackSpecs(model: TenancyModel, options: FixtureOptions = {}): Spec[] {
  const org = model.organization!;
  return [
    { type: STACK, name: "tenancy-test" },
    { type: Token.Organization, name: org.slug, parent: "tenancy-test", props: { slug: org.slug, billingMode: org.billing.mode, membership: org.membership, workspaces: model.workspaces.map((w) => w.slug).sort() } },
    { type: "pulumi-nodejs:dynamic/tenancy:ControlPlaneSchema", name: `${org.slug}-control-plane`, parent: org.slug, secret: SECRET_CONNECTION, props: withConnection({ migrations: [{ name: "tenancy records", checksum: "6e640f8736f4c128e85d51b48ed309e6af6bff1b5e338b6bed75936ec4420568", sql: "CREATE TABLE tenancy_control.users (email text PRIMARY KEY)" }] }) },
    { type: Token.OrganizationRecord, name: `${org.slug}-record`, parent: org.slug, secret: SECRET_CONNECTION, props: withConnection({ ...organizationRecordArgs(model) }) },
    ...model.workspaces.flatMap((_, i) => workspaceSpecs(model, i, options)),
  ];
}

/** A copy of `specs` with the spec named `name` changed by `change`. */
export function changed(specs: readonly Spec[], name: string, change: (spec: Spec) => Spec | undefined): Spec[] {
  if (!specs.some((s) => s.name === name)) throw new Error(`no resource named ${name}`);
  return specs.flatMap((s) => (s.name === name ? [change(s)].filter((x): x is Spec => x !== undefined) : [s]));
}
