// What to run to put a finding right: the SQL for a grant, membership, default privilege or role
// attribute the catalogs show, the `tenancy` command for what the declaration already says.
// Filled in after the diff for the kinds that predate a `remediation` of their own; a diff that
// sets one itself (audit-access's kinds) keeps it.
//
// The names come from the finding's object and message, where the diff writes them JSON-quoted
// (`schema "acme__x"`); they are parsed back with JSON.parse and quoted for SQL here, never
// pasted.
import { FindingId, type Finding } from "./findings.ts";

const JSON_STRING = String.raw`"(?:[^"\\]|\\.)*"`;

/** A name as a SQL identifier: always quoted, inner quotes doubled. */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"a.b"` (schema-qualified as the diff writes it) -> `"a"."b"`; a function's argument list is kept. */
function qualified(name: string): string {
  const dot = name.indexOf(".");
  if (dot < 0) return sqlIdent(name);
  const rest = name.slice(dot + 1);
  const paren = rest.indexOf("(");
  const base = paren < 0 ? rest : rest.slice(0, paren);
  return `${sqlIdent(name.slice(0, dot))}.${sqlIdent(base)}${paren < 0 ? "" : rest.slice(paren)}`;
}

const KIND_SQL: Readonly<Record<string, string>> = {
  schema: "SCHEMA", table: "TABLE", "partitioned table": "TABLE", view: "TABLE", "materialized view": "TABLE",
  "foreign table": "FOREIGN TABLE", sequence: "SEQUENCE", function: "FUNCTION", database: "DATABASE",
};

/** `table "s.t"`, `column "c" of table "s.t"`, `function "s.f(int)"`, `database "d"` -> its SQL target. */
function target(object: string): { on: string; column?: string } | undefined {
  const column = new RegExp(`^column (${JSON_STRING}) of (.+)$`).exec(object);
  if (column) {
    const on = target(column[2]!);
    return on && { ...on, column: sqlIdent(JSON.parse(column[1]!) as string) };
  }
  const m = new RegExp(`^(schema|table|partitioned table|view|materialized view|foreign table|sequence|function|database) (${JSON_STRING})$`).exec(object);
  if (!m) return undefined;
  const name = JSON.parse(m[2]!) as string;
  const kind = KIND_SQL[m[1]!]!;
  return { on: `${kind} ${kind === "SCHEMA" || kind === "DATABASE" ? sqlIdent(name) : qualified(name)}` };
}

const PRIVILEGE = /\b(?:holds|will get) ([A-Z]+(?: [A-Z]+)?) on /;

/**
 * For a finding about a privilege, who holds it and which: the message starts with the holder
 * (`PUBLIC`, `role "x" ...`, `the auditor "x"`) and says `holds P on` or `will get P on`.
 */
export function grantOf(f: Pick<Finding, "message">): { grantee: string; privilege: string } | undefined {
  const privilege = PRIVILEGE.exec(f.message)?.[1];
  if (!privilege) return undefined;
  if (f.message.startsWith("PUBLIC ")) return { grantee: "PUBLIC", privilege };
  const m = new RegExp(`^(?:role|the auditor) (${JSON_STRING})`).exec(f.message);
  return m ? { grantee: JSON.parse(m[1]!) as string, privilege } : undefined;
}

function revokeGrant(f: Finding): string | undefined {
  const grant = grantOf(f);
  if (!grant) return undefined;
  const { privilege } = grant;
  const who = grant.grantee === "PUBLIC" ? "PUBLIC" : sqlIdent(grant.grantee);
  const defaults = new RegExp(`^default privileges of (${JSON_STRING}) on (tables|sequences|functions|types|schemas)(?: in schema (${JSON_STRING}))?$`).exec(f.object);
  if (defaults) {
    const inSchema = defaults[3] === undefined ? "" : ` IN SCHEMA ${sqlIdent(JSON.parse(defaults[3]) as string)}`;
    return `ALTER DEFAULT PRIVILEGES FOR ROLE ${sqlIdent(JSON.parse(defaults[1]!) as string)}${inSchema} REVOKE ${privilege} ON ${defaults[2]!.toUpperCase()} FROM ${who};`;
  }
  const on = target(f.object);
  if (!on) return undefined;
  return `REVOKE ${privilege}${on.column ? ` (${on.column})` : ""} ON ${on.on} FROM ${who};`;
}

function revokeMembership(f: Finding): string | undefined {
  const m = new RegExp(`^membership of (${JSON_STRING}) in (${JSON_STRING})$`).exec(f.object);
  if (!m) return undefined;
  return `REVOKE ${sqlIdent(JSON.parse(m[2]!) as string)} FROM ${sqlIdent(JSON.parse(m[1]!) as string)};`;
}

function roleName(object: string): string | undefined {
  const m = new RegExp(`^role (${JSON_STRING})$`).exec(object);
  return m ? sqlIdent(JSON.parse(m[1]!) as string) : undefined;
}

const APPLY = "tenancy plan --stack <stack>, then tenancy apply --stack <stack> (puts the declared state back)";

/** The remediation for a finding of the kinds this module knows, or undefined. */
export function remediationFor(f: Finding): string | undefined {
  switch (f.id) {
    case FindingId.grantCrossesBoundary:
    case FindingId.publicGrantInWorkspace:
    case FindingId.controlPlaneReachable:
    case FindingId.privilegeUnexpected:
    case FindingId.defaultPrivilegeCrossesBoundary:
      return revokeGrant(f) ?? APPLY;
    case FindingId.membershipCrossesBoundary:
    case FindingId.membershipUnexpected:
      return revokeMembership(f) ?? APPLY;
    case FindingId.roleDangerousAttribute: {
      const role = roleName(f.object);
      return role && `ALTER ROLE ${role} NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS;`;
    }
    case FindingId.ownerOutsideWorkspace:
    case FindingId.schemaOwnerChanged:
    case FindingId.roleLoginChanged:
    case FindingId.credentialsTableChanged:
    case FindingId.schemaMissing:
    case FindingId.roleMissing:
    case FindingId.privilegeMissing:
    case FindingId.recordMissing:
    case FindingId.memberMissing:
    case FindingId.integrationMissing:
    case FindingId.invitationMissing:
    case FindingId.credentialsTableMissing:
    case FindingId.recordUnexpected:
    case FindingId.memberUnexpected:
    case FindingId.integrationUnexpected:
    case FindingId.recordChanged:
    case FindingId.memberRoleChanged:
    case FindingId.integrationChanged:
    case FindingId.controlPlaneVersion:
    case FindingId.controlPlaneMissing:
    case FindingId.awsResourceMissing:
    case FindingId.awsResourceChanged:
    case FindingId.awsSecretKeyCrossesBoundary:
    case FindingId.awsPolicyCrossesBoundary:
      return APPLY;
    case FindingId.schemaUnexpected: {
      const m = new RegExp(`^schema (${JSON_STRING})$`).exec(f.object);
      return `declare the workspace, or after review: ${m ? `DROP SCHEMA ${sqlIdent(JSON.parse(m[1]!) as string)} CASCADE;` : "drop the schema"}`;
    }
    case FindingId.roleUnexpected: {
      const role = roleName(f.object);
      return `declare the workspace, or after review: ${role ? `REASSIGN OWNED BY ${role} TO CURRENT_USER; DROP OWNED BY ${role}; DROP ROLE ${role};` : "drop the role"}`;
    }
    case FindingId.controlPlaneUnreadable:
      return "remove row-level security and any view or foreign table from tenancy_control (ALTER TABLE ... DISABLE ROW LEVEL SECURITY), then audit again";
    case FindingId.invitationPending:
      return "resend the invitation, or remove the member from the declaration and apply";
    case FindingId.exceptionExpired:
      return "fix the finding and delete the entry, or review it and set a new expires date";
    case FindingId.exceptionUnused:
      return "delete the entry from the exceptions file";
    default:
      return undefined;
  }
}

/** Each finding with its remediation: its own if it has one, else this module's. */
export function withRemediation<T extends Finding>(findings: readonly T[]): T[] {
  return findings.map((f) => {
    if (f.remediation !== undefined) return f;
    const remediation = remediationFor(f);
    return remediation === undefined ? f : { ...f, remediation };
  });
}
