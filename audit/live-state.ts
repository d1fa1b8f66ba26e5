// What the audit found in PostgreSQL, as plain data: the catalogs (every role and membership on
// the server, ACLs of every database, schemas, relations, functions, default privileges, large
// objects' grants, server settings, code on the control plane's tables) and the control-plane
// rows of one organization. Filled by audit/read-postgres.ts; read by the pure diff, so tests
// can hand the diff a state without a server.
import type { CredentialsTableFacts } from "../components/credentials-table.ts";

/** `PUBLIC` in an ACL: aclexplode's grantee 0. */
export const PUBLIC_GRANTEE = "PUBLIC";

export interface AclEntry {
  /** A role name, or `PUBLIC`. */
  readonly grantee: string;
  /** As PostgreSQL names it: `SELECT`, `USAGE`, `EXECUTE`, ... */
  readonly privilege: string;
  readonly grantable: boolean;
  readonly grantor: string;
}

export interface LiveRole {
  readonly name: string;
  readonly login: boolean;
  readonly superuser: boolean;
  readonly createrole: boolean;
  readonly createdb: boolean;
  readonly replication: boolean;
  readonly bypassrls: boolean;
  readonly inherit: boolean;
}

export interface LiveMembership {
  /** The role granted. */
  readonly role: string;
  /** Who holds it. */
  readonly member: string;
  readonly admin: boolean;
  readonly inherit: boolean;
  readonly set: boolean;
}

export interface LiveDatabase {
  readonly name: string;
  readonly owner: string;
  /** Effective ACL (the built-in default when none was set). */
  readonly acl: readonly AclEntry[];
  /**
   * The organization's roles (named `<org>__`) that may
   * CONNECT, TEMPORARY or CREATE there, as has_database_privilege says (directly, through PUBLIC
   * or a membership). Absent: not read.
   */
  readonly reach?: readonly DatabaseReach[];
}

export interface DatabaseReach {
  readonly role: string;
  /** CONNECT, TEMPORARY, CREATE: those the role holds. */
  readonly privileges: readonly string[];
}

export interface LiveSchema {
  readonly name: string;
  readonly owner: string;
  readonly acl: readonly AclEntry[];
}

export const RelationKind = {
  r: "table", p: "partitioned table", v: "view", m: "materialized view", f: "foreign table", S: "sequence",
} as const;
export type RelationKind = (typeof RelationKind)[keyof typeof RelationKind];

export interface LiveRelation {
  readonly schema: string;
  readonly name: string;
  readonly kind: RelationKind;
  readonly owner: string;
  readonly acl: readonly AclEntry[];
  /** Column privileges, each with its column. */
  readonly columnAcl: readonly (AclEntry & { readonly column: string })[];
  readonly rowSecurity: boolean;
  readonly forceRowSecurity: boolean;
  /** For a workspace's sealed-credentials table only: what the provider checks before using it. */
  readonly credentials?: CredentialsTableFacts;
}

export interface LiveFunction {
  readonly schema: string;
  /** `name(argument types)`. */
  readonly signature: string;
  readonly owner: string;
  readonly acl: readonly AclEntry[];
  readonly securityDefiner: boolean;
}

export const DefaultAclType = { r: "tables", S: "sequences", f: "functions", T: "types", n: "schemas" } as const;
export type DefaultAclType = (typeof DefaultAclType)[keyof typeof DefaultAclType];

export interface LiveDefaultAcl {
  /** The role whose future objects it covers. */
  readonly role: string;
  /** Absent: the role's global defaults. */
  readonly schema?: string;
  readonly objectType: DefaultAclType;
  /** As stored (global defaults replace the built-in ones; IN SCHEMA ones add to them). */
  readonly acl: readonly AclEntry[];
}

// Control-plane rows, column for column (snake_case as stored), one organization's only.
export interface OrganizationRow { slug: string; name: string; billing_mode: string; plan: string | null; membership_mode: string }
export interface CatalogueRoleRow { role: string; permissions: string[] }
export interface PersonRow { email: string; display_email: string; name: string | null; org_role: string | null }
export interface WorkspaceRow { slug: string; name: string; decommissioned: boolean }
export interface SubscriptionRow { workspace_slug: string; plan: string }
export interface PoolRow { workspace_slug: string; monthly_allowance: number }
export interface ExportProfileRow { workspace_slug: string; letterhead: string; accent_colour: string; contact_block: string }
/** The secret's NAME only; the credentials table's rows are never read. */
export interface IntegrationRow { workspace_slug: string; slug: string; provider: string; credentials_secret_name: string }
export interface AgentRow { workspace_slug: string; slug: string; name: string; style_memory_from: string | null }
export interface MembershipRow { workspace_slug: string; email: string; role: string }
export interface InvitationRow { workspace_slug: string; email: string; status: string; invited_at: string }

export interface LiveControlPlane {
  /** Why the rows were not read (absent schema, a table that is not a plain table, RLS on it). */
  readonly unreadable?: string;
  /** Versions recorded in schema_migrations. */
  readonly migrations: readonly number[];
  readonly organization?: OrganizationRow;
  readonly roles: readonly CatalogueRoleRow[];
  readonly people: readonly PersonRow[];
  readonly organizationPool?: number;
  readonly workspaces: readonly WorkspaceRow[];
  readonly subscriptions: readonly SubscriptionRow[];
  readonly workspacePools: readonly PoolRow[];
  readonly exportProfiles: readonly ExportProfileRow[];
  readonly integrations: readonly IntegrationRow[];
  readonly agents: readonly AgentRow[];
  readonly memberships: readonly MembershipRow[];
  readonly invitations: readonly InvitationRow[];
  /** Emails (comparison keys) of this organization's people, members and invitees with a `users` row. */
  readonly activeUsers: readonly string[];
}

/** Grants on large objects, counted per owner, grantee and privilege (the owner's own left out). */
export interface LiveLargeObjectGrant {
  readonly owner: string;
  /** A role name, or `PUBLIC`. */
  readonly grantee: string;
  readonly privilege: string;
  readonly count: number;
}

/** Server-wide facts: what a CIS PostgreSQL review reads, and every database's ACL. */
export interface LiveServer {
  /** The role made by initdb (oid 10): the one superuser expected. */
  readonly bootstrapSuperuser: string;
  /** The settings read (audit/read-postgres.ts SERVER_SETTINGS), as pg_settings shows them. */
  readonly settings: Readonly<Record<string, string>>;
  /** Whether the pgaudit library is loaded (its `pgaudit.log` setting exists). */
  readonly pgauditLoaded: boolean;
  /** Every database that accepts connections, with its effective ACL. */
  readonly databases: readonly LiveDatabase[];
  readonly largeObjects: readonly LiveLargeObjectGrant[];
  /** Event triggers of the audited database: code that runs on DDL, the admin's included. */
  readonly eventTriggers: readonly { readonly name: string; readonly event: string; readonly owner: string; readonly function: string; readonly enabled: boolean }[];
}

/** Code attached to the control plane's tables: it would run as whoever writes them (the admin, on apply). */
export interface LiveControlPlaneCode {
  readonly triggers: readonly { readonly table: string; readonly name: string; readonly function: string; readonly enabled: boolean }[];
  readonly rules: readonly { readonly table: string; readonly name: string; readonly event: string }[];
  readonly policies: readonly { readonly table: string; readonly name: string; readonly roles: readonly string[] }[];
}

export interface LiveState {
  /** The organization read. */
  readonly organization: string;
  /** The snapshot's `now()`, ISO 8601: invitation ages are measured from it. */
  readonly snapshotAt: string;
  readonly serverVersion: number;
  readonly currentUser: string;
  readonly database: LiveDatabase;
  /** Every role on the server. */
  readonly roles: readonly LiveRole[];
  /** Every membership on the server. */
  readonly memberships: readonly LiveMembership[];
  readonly schemas: readonly LiveSchema[];
  readonly relations: readonly LiveRelation[];
  readonly functions: readonly LiveFunction[];
  readonly defaultAcls: readonly LiveDefaultAcl[];
  readonly controlPlane: LiveControlPlane;
  readonly server: LiveServer;
  readonly controlPlaneCode: LiveControlPlaneCode;
}

export function emptyControlPlane(unreadable?: string): LiveControlPlane {
  return {
    ...(unreadable === undefined ? {} : { unreadable }),
    migrations: [], roles: [], people: [], workspaces: [], subscriptions: [], workspacePools: [], exportProfiles: [],
    integrations: [], agents: [], memberships: [], invitations: [], activeUsers: [],
  };
}
