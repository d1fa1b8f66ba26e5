// The privileges that draw one workspace's boundary in PostgreSQL, derived from its names alone.
// Pure (no Pulumi, no SQL): each workspace's boundary resource applies these descriptors (its
// `grants` input, keyed by id), and the policy pack and the audit read the same descriptors.
//
// Design: the app role is NOT a member of the owner role. It gets USAGE and CREATE on the schema
// directly and owns what it creates. Membership would give it the owner's rights over the schema
// itself (GRANT USAGE to anyone, DROP, ALTER OWNER), so a bug in the application could open the
// boundary to another workspace; without it, only the admin connection can change who reaches
// the schema. Tables the app owns are readable by the readonly role through default privileges.
import { CREDENTIALS_TABLE, PG_IDENTIFIER, type WorkspaceNames } from "./naming.ts";

/** The pseudo-role every role belongs to. Appears only as the grantee of a revoke. */
export const PUBLIC = "PUBLIC";

export const GrantAction = { grant: "grant", revoke: "revoke" } as const;
export type GrantAction = (typeof GrantAction)[keyof typeof GrantAction];

export const GrantTargetKind = {
  database: "database",
  schema: "schema",
  /** `ALL TABLES IN SCHEMA`: the tables that exist when the grant is applied. */
  allTablesInSchema: "all-tables-in-schema",
  /** `ALTER DEFAULT PRIVILEGES`: objects created later by `forRole`. */
  defaultPrivileges: "default-privileges",
} as const;
export type GrantTargetKind = (typeof GrantTargetKind)[keyof typeof GrantTargetKind];

export const DefaultObjectType = { tables: "tables", sequences: "sequences", functions: "functions", types: "types" } as const;
export type DefaultObjectType = (typeof DefaultObjectType)[keyof typeof DefaultObjectType];

/** Privileges each kind of object accepts; anything else is refused before SQL is built. */
export const ALLOWED_PRIVILEGES = {
  database: ["CONNECT", "CREATE", "TEMPORARY"],
  schema: ["USAGE", "CREATE"],
  tables: ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"],
  sequences: ["USAGE", "SELECT", "UPDATE"],
  functions: ["EXECUTE"],
  types: ["USAGE"],
} as const satisfies Record<string, readonly string[]>;

/** What a grant is on. `D` is the database name's type: a string, or a Pulumi input. */
export type GrantTarget<D = string> =
  | { readonly kind: "database"; readonly database: D }
  | { readonly kind: "schema"; readonly schema: string }
  | {
      readonly kind: "all-tables-in-schema";
      readonly schema: string;
      /** Tables the grant leaves out (and takes back if a blanket grant reached them). */
      readonly except?: readonly string[];
    }
  | {
      readonly kind: "default-privileges";
      /** Objects created later by this role. */
      readonly forRole: string;
      /** Only objects created in this schema; absent: the role's global defaults. */
      readonly schema?: string;
      readonly objectType: DefaultObjectType;
    };

export interface GrantDescriptor<D = string> {
  /** Stable within a workspace; the resource is named `${component}-${id}`. */
  readonly id: string;
  readonly action: GrantAction;
  /** The grantee: a role name, or PUBLIC for revokes. */
  readonly role: string;
  readonly on: GrantTarget<D>;
  readonly privileges: readonly string[];
}

/**
 * Every grant and revoke of one workspace. Only the workspace's own roles and schema are named;
 * PUBLIC appears only in revokes. `database` is where the schema lives.
 */
export function workspaceGrants<D = string>(names: WorkspaceNames, database: D): GrantDescriptor<D>[] {
  const { schema, owner, app, readonly } = names;
  const grant = (id: string, role: string, on: GrantTarget<D>, privileges: string[]): GrantDescriptor<D> => ({ id, action: "grant", role, on, privileges });
  const revoke = (id: string, on: GrantTarget<D>, privileges: string[]): GrantDescriptor<D> => ({ id, action: "revoke", role: PUBLIC, on, privileges });
  const future = (forRole: string, objectType: DefaultObjectType, inSchema: boolean): GrantTarget<D> =>
    inSchema ? { kind: "default-privileges", forRole, schema, objectType } : { kind: "default-privileges", forRole, objectType };
  return [
    // A new schema grants PUBLIC nothing; the revoke also repairs an adopted one.
    revoke("revoke-schema-public", { kind: "schema", schema }, ["USAGE", "CREATE"]),
    grant("connect-app", app, { kind: "database", database }, ["CONNECT"]),
    grant("connect-readonly", readonly, { kind: "database", database }, ["CONNECT"]),
    grant("schema-app", app, { kind: "schema", schema }, ["USAGE", "CREATE"]),
    grant("schema-readonly", readonly, { kind: "schema", schema }, ["USAGE"]),
    // The sealed credentials are the app's alone, even for the read-only role.
    grant("tables-readonly", readonly, { kind: "all-tables-in-schema", schema, except: [CREDENTIALS_TABLE] }, ["SELECT"]),
    grant("default-tables-owner-readonly", readonly, future(owner, "tables", true), ["SELECT"]),
    grant("default-tables-app-readonly", readonly, future(app, "tables", true), ["SELECT"]),
    // Functions are executable by PUBLIC by default, and IN SCHEMA defaults can only add to the
    // global ones, so the revoke is on each creating role's global defaults (which name only
    // that role, so it stays inside the workspace).
    revoke("revoke-default-functions-owner-public", future(owner, "functions", false), ["EXECUTE"]),
    revoke("revoke-default-functions-app-public", future(app, "functions", false), ["EXECUTE"]),
  ];
}

/** The roles and schema a descriptor names (PUBLIC and the database excluded). */
export function namesIn(descriptor: GrantDescriptor<unknown>): string[] {
  const on = descriptor.on;
  const names = descriptor.role === PUBLIC ? [] : [descriptor.role];
  if (on.kind === "schema" || on.kind === "all-tables-in-schema") names.push(on.schema);
  if (on.kind === "default-privileges") names.push(on.forRole, ...(on.schema === undefined ? [] : [on.schema]));
  return names;
}


/** What is wrong with a descriptor (identifiers, privileges, PUBLIC grants); empty when fine. */
export function grantProblems(descriptor: GrantDescriptor<unknown>): string[] {
  const problems: string[] = [];
  const on = descriptor.on;
  const ident = (what: string, value: unknown) => {
    if (typeof value !== "string" || !PG_IDENTIFIER.test(value)) problems.push(`${what} must be a plain lower-case identifier; got ${JSON.stringify(value)}`);
  };
  if (descriptor.action !== "grant" && descriptor.action !== "revoke") problems.push(`action must be "grant" or "revoke"; got ${JSON.stringify(descriptor.action)}`);
  if (descriptor.role === PUBLIC) {
    if (descriptor.action === "grant") problems.push("PUBLIC may only appear in revokes; got a grant to PUBLIC");
  } else ident("role", descriptor.role);
  let allowed: readonly string[] = [];
  switch (on?.kind) {
    case "database": ident("database", on.database); allowed = ALLOWED_PRIVILEGES.database; break;
    case "schema": ident("schema", on.schema); allowed = ALLOWED_PRIVILEGES.schema; break;
    case "all-tables-in-schema":
      ident("schema", on.schema);
      for (const table of on.except ?? []) ident("except", table);
      allowed = ALLOWED_PRIVILEGES.tables;
      // A revoke on "every table" has no stable meaning once the app creates more tables.
      if (descriptor.action === "revoke") problems.push("all-tables-in-schema supports grants only");
      break;
    case "default-privileges":
      ident("forRole", on.forRole);
      if (on.schema !== undefined) ident("schema", on.schema);
      if (!Object.hasOwn(ALLOWED_PRIVILEGES, on.objectType) || ["database", "schema"].includes(on.objectType)) {
        problems.push(`objectType must be one of ${Object.values(DefaultObjectType).join(", ")}; got ${JSON.stringify(on.objectType)}`);
      } else allowed = ALLOWED_PRIVILEGES[on.objectType];
      break;
    default: problems.push(`on.kind must be one of ${Object.values(GrantTargetKind).join(", ")}; got ${JSON.stringify((on as { kind?: unknown } | undefined)?.kind)}`);
  }
  if (!Array.isArray(descriptor.privileges) || descriptor.privileges.length === 0) problems.push("privileges must be a non-empty list");
  else {
    for (const p of descriptor.privileges) if (!allowed.includes(p)) problems.push(`privilege ${JSON.stringify(p)} is not allowed on ${on?.kind}; allowed: ${allowed.join(", ")}`);
    if (new Set(descriptor.privileges).size !== descriptor.privileges.length) problems.push("privileges must not repeat");
  }
  return problems;
}
