// What the audit reports: findings with a stable class and a stable kebab-case id, ordered by
// risk. Every output format (text, markdown, JSON, SARIF) renders this one typed result.
import type { Path } from "../config/source.ts";

/** Most dangerous first: this is also the order findings are reported in. */
export const FindingClass = {
  /** A privilege, membership, default privilege, owner or attribute that opens a workspace's boundary. */
  boundary: "boundary",
  /** A rule (policies/rules) that fails on the tenancy as found. */
  rule: "rule",
  /** Declared, not found. */
  missing: "missing",
  /** Found, not declared (schemas and roles named like the tenancy's, members, integrations, rows). */
  unexpected: "unexpected",
  /** Found with another value than declared. */
  changed: "changed",
  /** A server-wide setting or grant below what an auditor expects (CIS PostgreSQL); its severity says whether it fails the audit. */
  server: "server",
  /** Worth knowing, not a deviation (invitations pending for long). */
  info: "info",
} as const;
export type FindingClass = (typeof FindingClass)[keyof typeof FindingClass];
export const CLASS_ORDER: readonly FindingClass[] = Object.values(FindingClass);

/** Whether a finding fails the audit: `error` does (exit 1); `warning` and `info` are reported only. */
export const Severity = { error: "error", warning: "warning", info: "info" } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** The severity a finding has unless it says otherwise: `info` for class info, `error` for every other class. */
export function severityOf(f: Pick<Finding, "class" | "severity">): Severity {
  return f.severity ?? (f.class === FindingClass.info ? Severity.info : Severity.error);
}

/** Stable ids. A rule finding uses the rule's own id (policies/rules). */
export const FindingId = {
  roleDangerousAttribute: "role-dangerous-attribute",
  grantCrossesBoundary: "grant-crosses-boundary",
  publicGrantInWorkspace: "public-grant-in-workspace",
  defaultPrivilegeCrossesBoundary: "default-privilege-crosses-boundary",
  membershipCrossesBoundary: "membership-crosses-boundary",
  ownerOutsideWorkspace: "owner-outside-workspace",
  controlPlaneReachable: "control-plane-reachable",
  controlPlaneUnreadable: "control-plane-unreadable",
  controlPlaneMissing: "control-plane-missing",
  schemaMissing: "schema-missing",
  roleMissing: "role-missing",
  privilegeMissing: "privilege-missing",
  recordMissing: "record-missing",
  memberMissing: "member-missing",
  integrationMissing: "integration-missing",
  invitationMissing: "invitation-missing",
  credentialsTableMissing: "credentials-table-missing",
  schemaUnexpected: "schema-unexpected",
  roleUnexpected: "role-unexpected",
  privilegeUnexpected: "privilege-unexpected",
  membershipUnexpected: "membership-unexpected",
  recordUnexpected: "record-unexpected",
  memberUnexpected: "member-unexpected",
  integrationUnexpected: "integration-unexpected",
  schemaOwnerChanged: "schema-owner-changed",
  roleLoginChanged: "role-login-changed",
  recordChanged: "record-changed",
  memberRoleChanged: "member-role-changed",
  integrationChanged: "integration-changed",
  credentialsTableChanged: "credentials-table-changed",
  controlPlaneVersion: "control-plane-version",
  invitationPending: "invitation-pending",
  appPasswordDrift: "app-password-drift",
  appPasswordUnchecked: "app-password-unchecked",
  accessBeyondDeclared: "access-beyond-declared",
  accessToEveryWorkspace: "access-to-every-workspace",
  superuserUnexpected: "superuser-unexpected",
  databaseOwnerChanged: "database-owner-changed",
  publicGrantOnDatabase: "public-grant-on-database",
  workspaceReachesOtherDatabase: "workspace-reaches-other-database",
  largeObjectCrossesBoundary: "large-object-crosses-boundary",
  securityDefinerFunction: "security-definer-function",
  eventTrigger: "event-trigger",
  controlPlaneTrigger: "control-plane-trigger",
  controlPlaneRule: "control-plane-rule",
  controlPlanePolicy: "control-plane-policy",
  controlPlaneOwner: "control-plane-owner",
  publicCreateOnPublicSchema: "public-create-on-public-schema",
  publicConnectOnDatabase: "public-connect-on-database",
  passwordEncryption: "password-encryption",
  sslOff: "ssl-off",
  loggingIncomplete: "logging-incomplete",
  pgauditNotLoaded: "pgaudit-not-loaded",
  largeObjectCompatPrivileges: "lo-compat-privileges",
  bypassrlsRole: "bypassrls-role",
  awsSecretKeyCrossesBoundary: "aws-secret-key-crosses-boundary",
  awsPolicyCrossesBoundary: "aws-policy-crosses-boundary",
  awsResourceMissing: "aws-resource-missing",
  awsResourceUnexpected: "aws-resource-unexpected",
  awsResourceChanged: "aws-resource-changed",
  // The exceptions file (audit/exceptions.ts).
  exceptionExpired: "exception-expired",
  exceptionUnused: "exception-unused",
} as const;
export type FindingId = (typeof FindingId)[keyof typeof FindingId];

export interface Finding {
  readonly class: FindingClass;
  /** A FindingId, or the id of the rule that failed (class `rule`). */
  readonly id: string;
  /** The workspace it concerns (its slug, or the slug a stray schema or role suggests); absent: organization-wide. */
  readonly workspace?: string;
  /** What it is about, e.g. `schema "acme__emea_support"`, `member ana@acme.test of "emea-support"`. */
  readonly object: string;
  /** What must hold and what was found, in one sentence. Never a secret value. */
  readonly message: string;
  /** `changed`: the declared value. */
  readonly declared?: unknown;
  /** `changed`: the value found. */
  readonly found?: unknown;
  /** The declaration path it concerns (the nearest declared thing for what is not declared). */
  readonly path: Path;
  /** Absent: `severityOf` (error, or info for class info). */
  readonly severity?: Severity;
  /** For access found: who reaches it and how, e.g. `evil → tenancy_admin (member) → owner of schema acme__us_sales`. */
  readonly chain?: string;
  /** What to run to put it right: SQL, or a `tenancy` command. */
  readonly remediation?: string;
  /** Accepted in the exceptions file until its expiry: reported, not failing. */
  readonly excepted?: FindingException;
  /** The file it is located in when not the declaration (the exceptions file). */
  readonly file?: string;
}

/** An exceptions-file entry that matched a finding. */
export interface FindingException {
  readonly reason: string;
  readonly who: string;
  /** YYYY-MM-DD, the last day it holds. */
  readonly expires: string;
  /** Where the entry is: `file:line`. */
  readonly at: string;
}

/** A finding with its place in the declaration file (and, in a result, its severity filled in). */
export interface LocatedFinding extends Finding {
  readonly line: number;
  readonly column: number;
}

/** Risk order: class, then organization-wide before workspaces, workspaces by slug, then object and message. */
export function compareFindings(a: Finding, b: Finding): number {
  return CLASS_ORDER.indexOf(a.class) - CLASS_ORDER.indexOf(b.class) ||
    (a.workspace === undefined ? 0 : 1) - (b.workspace === undefined ? 0 : 1) ||
    (a.workspace ?? "").localeCompare(b.workspace ?? "") ||
    a.object.localeCompare(b.object) ||
    a.message.localeCompare(b.message);
}

/** Drops repeats of the same class, id, object and message (two checks reaching one fact). */
export function dedupe<T extends Finding>(findings: readonly T[]): T[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = [f.class, f.id, f.object, f.message].join("\u0001");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Findings that make the audit fail (exit 1): severity `error`, not excepted; `warning` and `info` do not. */
export function isDeviation(f: Pick<Finding, "class" | "severity" | "excepted">): boolean {
  return severityOf(f) === Severity.error && f.excepted === undefined;
}

/** SARIF's level and `--fail-on`'s threshold for each class. */
export const CLASS_LEVEL: Readonly<Record<FindingClass, "error" | "warning" | "note">> = {
  boundary: "error", rule: "error", missing: "warning", unexpected: "warning", changed: "warning", server: "warning", info: "note",
};

/** A finding's level: its class's, except a `server` finding, whose severity says (error, warning, info as note). */
export function levelOf(f: Pick<Finding, "class" | "severity">): "error" | "warning" | "note" {
  if (f.class !== FindingClass.server) return CLASS_LEVEL[f.class];
  const severity = severityOf(f);
  return severity === Severity.info ? "note" : severity;
}

/** What each finding id checks, for SARIF rule metadata and the README. */
export const DESCRIPTIONS: Readonly<Record<FindingId, { readonly class: FindingClass; readonly text: string }>> = {
  "role-dangerous-attribute": { class: "boundary", text: "Checks that no workspace role or auditor role holds SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS." },
  "grant-crosses-boundary": { class: "boundary", text: "Checks that only a workspace's own roles (and the admin) hold privileges on its schema, tables, sequences and functions." },
  "public-grant-in-workspace": { class: "boundary", text: "Checks that nothing in a workspace schema is granted to PUBLIC, now or through default privileges." },
  "default-privilege-crosses-boundary": { class: "boundary", text: "Checks that no default privilege gives a role outside a workspace its future objects, or a workspace role objects outside it." },
  "membership-crosses-boundary": { class: "boundary", text: "Checks that a workspace role is a member of no role outside its workspace, and that only the admin holds a workspace's roles." },
  "owner-outside-workspace": { class: "boundary", text: "Checks that objects in a workspace schema are owned by that workspace's roles (or the admin)." },
  "control-plane-reachable": { class: "boundary", text: "Checks that no workspace role and not PUBLIC holds a privilege on the control plane." },
  "control-plane-unreadable": { class: "boundary", text: "Checks that the control-plane tables are plain tables without row-level security, so the audit reads them without running their code." },
  "control-plane-missing": { class: "missing", text: "Checks that the control-plane schema exists." },
  "schema-missing": { class: "missing", text: "Checks that every declared workspace has its schema." },
  "role-missing": { class: "missing", text: "Checks that every declared workspace has its owner, app and read-only roles, and that the auditor role exists." },
  "privilege-missing": { class: "missing", text: "Checks that every grant of components/grants.ts is in effect." },
  "record-missing": { class: "missing", text: "Checks that the organization, its catalogue, people, workspaces and agents are recorded in the control plane." },
  "member-missing": { class: "missing", text: "Checks that every declared member has a membership." },
  "integration-missing": { class: "missing", text: "Checks that every declared integration is recorded." },
  "credentials-table-missing": { class: "missing", text: "Checks that every workspace schema has its sealed-credentials table." },
  "invitation-missing": { class: "missing", text: "Checks that a declared member who is not an active user has an invitation." },
  "schema-unexpected": { class: "unexpected", text: "Checks that no schema is named like the organization's workspaces without being declared." },
  "role-unexpected": { class: "unexpected", text: "Checks that no role is named like the organization's workspace roles without being declared." },
  "privilege-unexpected": { class: "unexpected", text: "Checks that workspace roles and the auditor hold no privilege components/grants.ts does not give them." },
  "membership-unexpected": { class: "unexpected", text: "Checks that a workspace's roles are not members of each other, and the auditor of nothing." },
  "record-unexpected": { class: "unexpected", text: "Checks that the control plane records no workspace, person, catalogue role or agent the declaration lacks." },
  "member-unexpected": { class: "unexpected", text: "Checks that no workspace has a member the declaration lacks." },
  "integration-unexpected": { class: "unexpected", text: "Checks that no workspace has an integration the declaration lacks." },
  "schema-owner-changed": { class: "changed", text: "Checks that each workspace schema is owned by its owner role." },
  "role-login-changed": { class: "changed", text: "Checks that only workspace app roles can log in." },
  "record-changed": { class: "changed", text: "Checks that recorded names, billing, plans, pools, export profiles, people and agents match the declaration." },
  "member-role-changed": { class: "changed", text: "Checks that each member has the declared role." },
  "integration-changed": { class: "changed", text: "Checks that each integration has the declared provider and secret name." },
  "credentials-table-changed": { class: "changed", text: "Checks that each sealed-credentials table is the plain table the provider made: owned by the workspace's owner role, no trigger, rule, policy, extra column, index or constraint." },
  "control-plane-version": { class: "changed", text: "Checks that the control plane is at this toolkit's latest migration." },
  "invitation-pending": { class: "info", text: "Reports invitations still pending after the configured number of days." },
  "app-password-drift": { class: "changed", text: "Checks (with --stack) that each workspace's app role still logs in with the password the stack derives for it: the app role can change its own." },
  "app-password-unchecked": { class: "info", text: "Reports (with --stack) a workspace whose app-role login could not be tried (its connection limit reached, pg_hba.conf, the server), so its password is not known to be the derived one." },
  "access-beyond-declared": { class: "boundary", text: "Checks that no login role outside a workspace's declared holders reaches its schema, tables or sealed credentials (or the control plane), through any chain of memberships, ownership, grants or default privileges." },
  "access-to-every-workspace": { class: "boundary", text: "Checks that no login role other than the admin reaches the admin, a superuser, pg_read_all_data or pg_write_all_data through memberships: each reaches every workspace." },
  "superuser-unexpected": { class: "boundary", text: "Checks that the bootstrap superuser is the only superuser on the server." },
  "database-owner-changed": { class: "boundary", text: "Checks that the audited database is owned by the admin that owns the control plane." },
  "public-grant-on-database": { class: "boundary", text: "Checks that PUBLIC holds nothing on the audited database (the control plane revokes CONNECT and TEMPORARY from it)." },
  "workspace-reaches-other-database": { class: "boundary", text: "Checks that no workspace role may connect to, or make temporary objects in, another database of the server (where no workspace boundary applies), whether granted to it, through PUBLIC or through a membership (has_database_privilege)." },
  "large-object-crosses-boundary": { class: "boundary", text: "Checks that large objects of a workspace's roles are granted to no role outside it, and a workspace's roles hold no one else's." },
  "security-definer-function": { class: "boundary", text: "Checks that no SECURITY DEFINER function in the control plane, or in a workspace schema owned by a role not the workspace's, runs others' calls with its owner's rights." },
  "event-trigger": { class: "boundary", text: "Checks that the audited database has no event trigger (code that would run on the admin's DDL)." },
  "control-plane-trigger": { class: "boundary", text: "Checks that no trigger is attached to a control-plane table (it would run as the admin on apply)." },
  "control-plane-rule": { class: "boundary", text: "Checks that no rule rewrites writes to a control-plane table." },
  "control-plane-policy": { class: "boundary", text: "Checks that no row-level security policy is defined on a control-plane table." },
  "control-plane-owner": { class: "boundary", text: "Checks that every control-plane table, sequence and function is owned by the admin." },
  "public-create-on-public-schema": { class: "server", text: "Checks that PUBLIC cannot create objects in the audited database's public schema (CIS PostgreSQL)." },
  "public-connect-on-database": { class: "server", text: "Checks that PUBLIC cannot connect to the server's other databases (CIS PostgreSQL): every login, the workspaces' app roles included, could." },
  "password-encryption": { class: "server", text: "Checks that password_encryption is scram-sha-256 (CIS PostgreSQL)." },
  "ssl-off": { class: "server", text: "Checks that the server accepts TLS connections (ssl = on) (CIS PostgreSQL)." },
  "logging-incomplete": { class: "server", text: "Checks that connections, disconnections and DDL are logged (log_connections, log_disconnections, log_statement) (CIS PostgreSQL)." },
  "pgaudit-not-loaded": { class: "server", text: "Checks that the pgaudit library is loaded (shared_preload_libraries) (CIS PostgreSQL)." },
  "lo-compat-privileges": { class: "server", text: "Checks that lo_compat_privileges is off: on, every role reads and writes every large object." },
  "bypassrls-role": { class: "server", text: "Checks which roles other than superusers hold BYPASSRLS (row-level security does not apply to them)." },
  "aws-secret-key-crosses-boundary": { class: "boundary", text: "Checks that each workspace's Secrets Manager secrets are encrypted under that workspace's own KMS key." },
  "aws-policy-crosses-boundary": { class: "boundary", text: "Checks that a workspace's IAM read policy names only that workspace's secrets and key, without wildcards." },
  "aws-resource-missing": { class: "missing", text: "Checks that each workspace with integrations has its KMS key and alias, a secret per integration and its IAM read policy." },
  "aws-resource-unexpected": { class: "unexpected", text: "Checks that no KMS alias, secret or IAM policy under the organization's names or tags is undeclared." },
  "aws-resource-changed": { class: "changed", text: "Checks that keys are enabled, tags name the right organization and workspace, and read policies are exactly what the toolkit writes." },
  "exception-expired": { class: "changed", text: "Checks that no entry of the exceptions file is past its expiry date." },
  "exception-unused": { class: "info", text: "Reports exceptions-file entries that match no finding (fixed, or misspelt)." },
};
