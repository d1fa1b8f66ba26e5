import { describe, expect, it } from "vitest";
import { AUDITOR_ATTRIBUTES, auditorGrants, auditorRoleName, auditorStatements } from "../../components/auditor.ts";
import { grantProblems, namesIn } from "../../components/grants.ts";
import { workspaceNames } from "../../components/naming.ts";

const quote = (n: string) => `"${n}"`;

describe("the auditor role", () => {
  it("is named like the organization's other roles, dashes as underscores", () => {
    expect(auditorRoleName("acme")).toBe("acme__auditor");
    expect(auditorRoleName("big-co")).toBe("big_co__auditor");
  });

  it("cannot log in and holds nothing elevated", () => {
    expect(AUDITOR_ATTRIBUTES.split(" ").sort()).toEqual(["NOBYPASSRLS", "NOCREATEDB", "NOCREATEROLE", "NOLOGIN", "NOREPLICATION", "NOSUPERUSER"]);
  });

  it("is granted the database, the control plane and its future tables, and nothing in any workspace schema", () => {
    const grants = auditorGrants("acme", "tenancy", "tenancy_admin");
    expect(grants.flatMap(grantProblems)).toEqual([]);
    expect(grants.every((g) => g.action === "grant" && g.role === "acme__auditor")).toBe(true);
    const named = grants.flatMap(namesIn);
    expect(named.filter((n) => n.startsWith("acme__") && n !== "acme__auditor")).toEqual([]);
    expect(named).not.toContain(workspaceNames("acme", "auditor").schema + "__owner");
    expect(grants.map((g) => [g.on.kind, g.privileges.join(",")])).toEqual([
      ["database", "CONNECT"], ["schema", "USAGE"], ["all-tables-in-schema", "SELECT"], ["default-privileges", "SELECT"],
    ]);
  });

  it("comes as SQL statements with every identifier quoted", () => {
    expect(auditorStatements("acme", "tenancy", "tenancy_admin", false, quote)).toEqual([
      'CREATE ROLE "acme__auditor" WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
      'GRANT CONNECT ON DATABASE "tenancy" TO "acme__auditor"',
      'GRANT USAGE ON SCHEMA "tenancy_control" TO "acme__auditor"',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "tenancy_control" TO "acme__auditor"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "tenancy_admin" IN SCHEMA "tenancy_control" GRANT SELECT ON TABLES TO "acme__auditor"',
    ]);
    expect(auditorStatements("acme", "tenancy", "tenancy_admin", true, quote)[0]).toMatch(/^ALTER ROLE/);
  });

  it("refuses an admin or database name that is not a plain identifier", () => {
    expect(() => auditorGrants("acme", "tenancy", 'x"; DROP')).toThrow(/forRole must be a plain lower-case identifier/);
    expect(() => auditorGrants("acme", "Tenancy DB", "tenancy_admin")).toThrow(/database must be a plain lower-case identifier/);
  });
});
