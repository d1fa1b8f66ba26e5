import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { effectiveAccess } from "../../audit/access.ts";
import { expectedState } from "../../audit/expected.ts";
import type { LiveState } from "../../audit/live-state.ts";
import { devDeclaration, devLive, entry, relationOf, type MutableState } from "./fixture.ts";

const login = (name: string, extra: object = {}) => ({ name, login: true, superuser: false, createrole: false, createdb: false, replication: false, bypassrls: false, inherit: true, ...extra });
const member = (role: string, m: string, options: object = {}) => ({ role, member: m, admin: false, inherit: true, set: true, ...options });

function access(change: (s: MutableState) => void = () => {}) {
  const s = devLive() as MutableState;
  change(s);
  return effectiveAccess(expectedState(devDeclaration().model, s.database.name), s as LiveState);
}
const summary = (r: ReturnType<typeof access>) => r.findings.map((f) => `${f.id} ${f.workspace ?? "-"} ${f.chain}`).sort();

describe("effective access from every role on the server", () => {
  it("finds nothing beyond the declared holders on the state the declaration produced, and draws every workspace and the control plane", () => {
    const r = access();
    expect(r.findings).toEqual([]);
    expect(r.matrix.rows.map((x) => x.target)).toEqual(["workspace:emea-support", "workspace:us-sales", "workspace:internal", "control-plane"]);
    expect(r.matrix.rows.flatMap((x) => x.cells.filter((c) => !c.declared))).toEqual([]);
    const usSales = r.matrix.rows[1]!.cells;
    expect(usSales.map((c) => c.role)).toEqual(["acme__us_sales__app", "acme__us_sales__owner", "acme__us_sales__ro", "postgres"]);
    expect(usSales.find((c) => c.role === "acme__us_sales__app")).toMatchObject({ privileges: ["CREATE", "SELECT", "USAGE"], credentials: ["SELECT"] });
    expect(usSales.find((c) => c.role === "acme__us_sales__ro")!.credentials).toEqual([]);
    expect(usSales.find((c) => c.role === "postgres")).toMatchObject({ privileges: ["SUPERUSER"], paths: ["postgres → superuser"] });
    expect(r.matrix.rows[3]!.cells.map((c) => c.role)).toEqual(["postgres", "tenancy_auditor"]);
    expect(r.matrix.roles.find((x) => x.name === "tenancy_auditor")).toMatchObject({ kind: "auditor", login: false, connect: true });
  });

  it("names a login role reaching a superuser, pg_read_all_data or the admin once, organization-wide, with its chain", () => {
    const r = access((s) => {
      s.roles.push(login("evil"), login("reader"), login("tenancy_admin", { createrole: true }));
      s.memberships.push(member("postgres", "evil"), member("pg_read_all_data", "reader"), member("acme__internal__owner", "tenancy_admin", { inherit: false, set: false, admin: true }));
    });
    expect(summary(r)).toEqual([
      "access-to-every-workspace - evil → postgres (member)",
      "access-to-every-workspace - reader → pg_read_all_data (member)",
      "access-beyond-declared internal tenancy_admin → acme__internal__owner (ADMIN OPTION only: can grant itself) → owner of schema acme__internal",
    ].sort());
    expect(r.findings.find((f) => f.chain === "reader → pg_read_all_data (member)")!.remediation).toBe('REVOKE "pg_read_all_data" FROM "reader";');
    const cell = r.matrix.rows[0]!.cells.find((c) => c.role === "reader")!;
    expect(cell).toMatchObject({ declared: false, privileges: ["SELECT", "USAGE"], credentials: ["SELECT"], findings: ["access-to-every-workspace"] });
  });

  it("takes the control plane's owner for the admin, not the database's owner, and names one finding for a login holding the admin", () => {
    const r = access((s) => {
      s.roles.push(login("evil"), login("tenancy_admin", { createrole: true }));
      s.schemas.find((x) => x.name === "tenancy_control")!.owner = "tenancy_admin";
      s.database.owner = "evil";
      for (const ws of ["emea_support", "internal", "us_sales"]) for (const p of ["owner", "app", "ro"]) s.memberships.push(member(`acme__${ws}__${p}`, "tenancy_admin", { inherit: false, set: false, admin: true }));
      s.memberships.push(member("tenancy_admin", "evil"));
    });
    expect(summary(r)).toEqual(["access-to-every-workspace - evil → tenancy_admin (member)"]);
    expect(r.findings[0]!.message).toBe('login role "evil" reaches the admin "tenancy_admin", and so every workspace and the control plane: evil → tenancy_admin (member)');
  });

  it("follows chains of NOLOGIN roles and SET-only memberships, and ignores memberships that give nothing", () => {
    const r = access((s) => {
      s.roles.push(login("chained"), login("hop1", { login: false }), login("hop2", { login: false }), login("setter", { inherit: false }), login("inert"));
      s.memberships.push(member("hop1", "chained"), member("hop2", "hop1"), member("acme__us_sales__ro", "hop2"));
      s.memberships.push(member("acme__internal__app", "setter", { inherit: false }));
      s.memberships.push(member("acme__emea_support__owner", "inert", { inherit: false, set: false }));
    });
    expect(summary(r)).toEqual([
      "access-beyond-declared internal setter → acme__internal__app (SET ROLE only) → CREATE on schema acme__internal",
      "access-beyond-declared us-sales chained → hop1 (member) → hop2 (member) → acme__us_sales__ro (member) → USAGE on schema acme__us_sales",
    ]);
    expect(r.findings.find((f) => f.workspace === "us-sales")!.remediation).toBe('REVOKE "acme__us_sales__ro" FROM "hop2";');
    // The NOLOGIN hops are in the matrix, undeclared, without a finding of their own.
    expect(r.matrix.rows[1]!.cells.find((c) => c.role === "hop1")).toMatchObject({ declared: false, findings: [] });
  });

  it("shows direct grants, column grants, large objects and PUBLIC in the matrix without repeating their own checks' findings", () => {
    const r = access((s) => {
      s.roles.push(login("analyst"), login("colpeek"), login("thief"));
      relationOf(s, "tenancy_control", "memberships").acl.push(entry("analyst", "UPDATE"));
      relationOf(s, "acme__us_sales", "integration_credentials").columnAcl.push({ ...entry("colpeek", "SELECT"), column: "slug" });
      s.server.largeObjects.push({ owner: "acme__internal__app", grantee: "thief", privilege: "SELECT", count: 2 });
      s.schemas.find((x) => x.name === "acme__internal")!.acl.push(entry("PUBLIC", "USAGE"));
    });
    expect(r.findings).toEqual([]);
    const cell = (row: number, role: string) => r.matrix.rows[row]!.cells.find((c) => c.role === role);
    expect(cell(3, "analyst")).toMatchObject({ declared: false, privileges: ["UPDATE"] });
    expect(cell(1, "colpeek")).toMatchObject({ declared: false, privileges: ["SELECT (slug)"], credentials: ["SELECT (slug)"] });
    expect(cell(2, "thief")).toMatchObject({ declared: false, privileges: ["SELECT on large objects"] });
    expect(cell(2, "PUBLIC")).toMatchObject({ declared: false, privileges: ["USAGE"] });
  });

  it("gives every login role holding any workspace role through any chain a finding (property)", () => {
    const roles = ["acme__us_sales__owner", "acme__us_sales__app", "acme__us_sales__ro", "acme__internal__owner", "acme__emea_support__app"];
    fc.assert(fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (target, depth, inherit) => {
      const r = access((s) => {
        s.roles.push(login("top"));
        const hops = Array.from({ length: depth - 1 }, (_, i) => `hop${i}`);
        for (const h of hops) s.roles.push(login(h, { login: false }));
        const chain = ["top", ...hops, roles[target]!];
        for (let i = 0; i + 1 < chain.length; i++) s.memberships.push(member(chain[i + 1]!, chain[i]!, { inherit, set: true }));
      });
      const f = r.findings.filter((x) => x.object === 'role "top"');
      return f.length === 1 && f[0]!.id === "access-beyond-declared" && f[0]!.chain!.startsWith("top → ") && f[0]!.chain!.includes(roles[target]!);
    }), { numRuns: 40 });
  });
});
