// Server-wide checks an auditor expects (CIS PostgreSQL-style): superusers, BYPASSRLS, PUBLIC on
// the other databases and on the public schema, password encryption, TLS, logging, pgaudit,
// large objects' compatibility privileges. Severity says which fail the audit: those the
// embedded demo server cannot meet (TLS, logging, pgaudit) are warnings or information, so an
// audit of the demo stays clean while saying what a production server should change. PUBLIC
// CONNECT on another database is a warning here only while it lets no workspace role in (no
// workspace yet); once it does, each workspace gets a boundary finding instead (database.ts).
import { FindingClass as C, FindingId as Id, Severity } from "../findings.ts";
import { PUBLIC_GRANTEE } from "../live-state.ts";
import { ident, q, type CatalogContext } from "./context.ts";

const off = (value: string | undefined) => value === undefined || value === "" || value === "off" || value === "none";

export function checkServer({ live, admin, roleOwner, add }: CatalogContext): void {
  const org = { kind: "other" } as const;
  const server = live.server;
  for (const r of live.roles) {
    if (r.superuser && r.name !== server.bootstrapSuperuser) {
      add(C.boundary, Id.superuserUnexpected, org, `role ${q(r.name)}`, `role ${q(r.name)} is a superuser${r.login ? " and can log in" : ""}: only the bootstrap superuser ${q(server.bootstrapSuperuser)} may be one, a superuser reaches every workspace`,
        { remediation: `ALTER ROLE ${ident(r.name)} NOSUPERUSER;` });
    }
    // A workspace role or the auditor with BYPASSRLS is reported with its other attributes (roles.ts).
    const owner = roleOwner(r.name);
    if (r.bypassrls && !r.superuser && owner.kind !== "workspace" && owner.kind !== "auditor") {
      add(C.server, Id.bypassrlsRole, org, `role ${q(r.name)}`, `role ${q(r.name)} has BYPASSRLS: row-level security does not apply to it${r.name === admin ? " (the admin)" : ""}`,
        { severity: r.name === admin ? Severity.info : Severity.warning, remediation: `ALTER ROLE ${ident(r.name)} NOBYPASSRLS;` });
    }
  }
  for (const d of server.databases) {
    if (d.name === live.database.name) continue; // the audited database: database.ts
    const held = d.acl.filter((e) => e.grantee === PUBLIC_GRANTEE && e.privilege === "CONNECT");
    if (held.length === 0) continue;
    // The workspaces' roles it lets in are a boundary finding of each (database.ts), which names PUBLIC as their path.
    if ((d.reach ?? []).some((r) => roleOwner(r.role).kind === "workspace")) continue;
    add(C.server, Id.publicConnectOnDatabase, org, `database ${q(d.name)}`, `PUBLIC may connect to database ${q(d.name)}: every login on the server, the workspaces' app roles included, can`,
      { severity: Severity.warning, remediation: `REVOKE CONNECT ON DATABASE ${ident(d.name)} FROM PUBLIC;` });
  }
  const pub = live.schemas.find((s) => s.name === "public");
  if (pub?.acl.some((e) => e.grantee === PUBLIC_GRANTEE && e.privilege === "CREATE")) {
    add(C.server, Id.publicCreateOnPublicSchema, org, `schema "public"`, `PUBLIC may create objects in schema "public" of database ${q(live.database.name)}: any role that connects can plant functions and operators there`,
      { remediation: `REVOKE CREATE ON SCHEMA public FROM PUBLIC;` });
  }
  const s = server.settings;
  if (s.password_encryption !== undefined && s.password_encryption !== "scram-sha-256") {
    add(C.server, Id.passwordEncryption, org, "setting password_encryption", `password_encryption is ${q(s.password_encryption)}; it must be "scram-sha-256"`,
      { remediation: "ALTER SYSTEM SET password_encryption = 'scram-sha-256'; SELECT pg_reload_conf();  -- then reset every password", declared: "scram-sha-256", found: s.password_encryption });
  }
  if (s.ssl !== undefined && off(s.ssl)) {
    add(C.server, Id.sslOff, org, "setting ssl", `ssl is off: connections, passwords included, travel in clear text`,
      { severity: Severity.warning, remediation: "ALTER SYSTEM SET ssl = on; SELECT pg_reload_conf();  -- with ssl_cert_file and ssl_key_file in place" });
  }
  for (const [name, wanted] of [["log_connections", "on"], ["log_disconnections", "on"], ["log_statement", "ddl"]] as const) {
    if (s[name] === undefined || !off(s[name])) continue;
    add(C.server, Id.loggingIncomplete, org, `setting ${name}`, `${name} is ${q(s[name]!)}: ${name === "log_statement" ? "DDL (grants, role changes) is not logged" : `${name.slice(4)} are not logged`}`,
      { severity: Severity.warning, remediation: `ALTER SYSTEM SET ${name} = '${wanted}'; SELECT pg_reload_conf();` });
  }
  if (!server.pgauditLoaded) {
    add(C.server, Id.pgauditNotLoaded, org, "setting shared_preload_libraries", "pgaudit is not loaded: who read or changed what is not in the server's log",
      { severity: Severity.info, remediation: "ALTER SYSTEM SET shared_preload_libraries = 'pgaudit'; -- restart the server, then CREATE EXTENSION pgaudit; ALTER SYSTEM SET pgaudit.log = 'ddl, role';" });
  }
  if (s.lo_compat_privileges !== undefined && !off(s.lo_compat_privileges)) {
    add(C.server, Id.largeObjectCompatPrivileges, org, "setting lo_compat_privileges", "lo_compat_privileges is on: every role reads and writes every large object, whoever owns it",
      { remediation: "ALTER SYSTEM SET lo_compat_privileges = off; SELECT pg_reload_conf();" });
  }
}
