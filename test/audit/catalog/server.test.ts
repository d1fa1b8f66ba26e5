import { describe, expect, it } from "vitest";
import { checkServer } from "../../../audit/catalog/server.ts";
import { checkTampered, entry, schemaOf } from "../fixture.ts";

const role = (name: string, extra: object = {}) => ({ name, login: true, superuser: false, createrole: false, createdb: false, replication: false, bypassrls: false, inherit: true, ...extra });
const withSeverity = (r: ReturnType<typeof checkTampered>) => r.findings.map((f) => `${f.severity ?? "error"} ${f.id} ${f.object}`);

describe("checkServer (CIS PostgreSQL-style) on the dev stack's live state", () => {
  it("reports what the embedded server cannot meet as warnings and information only", () => {
    expect(withSeverity(checkTampered(checkServer, () => {}))).toEqual([
      "warning logging-incomplete setting log_connections",
      "warning logging-incomplete setting log_disconnections",
      "warning logging-incomplete setting log_statement",
      "info pgaudit-not-loaded setting shared_preload_libraries",
      "warning ssl-off setting ssl",
    ]);
  });

  it("says nothing of what a hardened server meets", () => {
    const r = checkTampered(checkServer, (s) => {
      s.server.settings = { ...s.server.settings, ssl: "on", log_connections: "receipt,authentication", log_disconnections: "on", log_statement: "ddl" };
      s.server.pgauditLoaded = true;
      s.server.databases = s.server.databases.map((d) => ({ ...d, acl: d.acl.filter((e) => e.grantee !== "PUBLIC") }));
    });
    expect(r.findings).toEqual([]);
  });

  it("reports a second superuser, PUBLIC CREATE on public, md5 passwords and lo_compat_privileges as errors, a BYPASSRLS role as a warning", () => {
    const r = checkTampered(checkServer, (s) => {
      s.roles.push(role("root2", { superuser: true, login: false }), role("rls", { bypassrls: true }));
      schemaOf(s, "public").acl.push(entry("PUBLIC", "CREATE"));
      s.server.settings = { ...s.server.settings, password_encryption: "md5", lo_compat_privileges: "on" };
    });
    const errors = withSeverity(r).filter((f) => f.startsWith("error") || f.includes("bypassrls"));
    expect(errors).toEqual([
      'error superuser-unexpected role "root2"',
      'warning bypassrls-role role "rls"',
      'error public-create-on-public-schema schema "public"',
      "error lo-compat-privileges setting lo_compat_privileges",
      "error password-encryption setting password_encryption",
    ]);
    expect(r.findings.find((f) => f.id === "superuser-unexpected")!.remediation).toBe('ALTER ROLE "root2" NOSUPERUSER;');
  });
});
