import { describe, expect, it } from "vitest";
import { AUDITOR_LOGIN, AUDITOR_PRIVILEGES, auditorGrants } from "../../components/auditor.ts";
import { grantProblems, namesIn } from "../../components/grants.ts";
import { AUDITOR_ROLE, identifierProblem, workspaceNames } from "../../components/naming.ts";

describe("the auditor role", () => {
  it("is one role per server, like the control plane it reads, and can never be a workspace's", () => {
    expect(AUDITOR_ROLE).toBe("tenancy_auditor");
    expect(identifierProblem(AUDITOR_ROLE)).toBeUndefined();
    // Every workspace name holds "__" between organization and workspace.
    expect(AUDITOR_ROLE).not.toContain("__");
    expect(Object.values(workspaceNames("tenancy", "auditor"))).not.toContain(AUDITOR_ROLE);
  });

  it("cannot log in", () => {
    expect(AUDITOR_LOGIN).toBe(false);
  });

  it("is granted the database, the control plane and its future tables, and nothing in any workspace schema", () => {
    const grants = auditorGrants("tenancy", "tenancy_admin");
    expect(grants.flatMap(grantProblems)).toEqual([]);
    expect(grants.every((g) => g.action === "grant" && g.role === AUDITOR_ROLE)).toBe(true);
    expect([...new Set(grants.flatMap(namesIn))].sort()).toEqual(["tenancy_admin", "tenancy_auditor", "tenancy_control"]);
    expect(grants.map((g) => [g.on.kind, g.privileges.join(",")])).toEqual([
      ["database", AUDITOR_PRIVILEGES.database], ["schema", AUDITOR_PRIVILEGES.schema], ["all-tables-in-schema", "SELECT"], ["default-privileges", "SELECT"],
    ]);
  });

  it("refuses an admin or database name that is not a plain identifier", () => {
    expect(() => auditorGrants("tenancy", 'x"; DROP')).toThrow(/forRole must be a plain lower-case identifier/);
    expect(() => auditorGrants("Tenancy DB", "tenancy_admin")).toThrow(/database must be a plain lower-case identifier/);
  });
});
