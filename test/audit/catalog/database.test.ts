import { describe, expect, it } from "vitest";
import { checkDatabase } from "../../../audit/catalog/database.ts";
import { checkServer } from "../../../audit/catalog/server.ts";
import { checkTampered, entry, reachOther } from "../fixture.ts";

const rolesOf = (ws: string) => [`acme__${ws}__app`, `acme__${ws}__owner`, `acme__${ws}__ro`];

describe("checkDatabase on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkDatabase, () => {}).summary).toEqual([]);
  });

  it("reports a workspace role or the auditor holding more on the database than grants.ts gives as unexpected", () => {
    const r = checkTampered(checkDatabase, (s) => { s.database.acl.push(entry("acme__internal__app", "CREATE"), entry("tenancy_auditor", "TEMPORARY")); });
    expect(r.summary).toEqual(["unexpected privilege-unexpected -", "unexpected privilege-unexpected internal"]);
    expect(r.findings[1]!.message).toBe('role "acme__internal__app" of workspace "internal" holds CREATE on database "postgres", which components/grants.ts does not grant');
  });

  it("reports PUBLIC CONNECT on another database as a boundary finding of each workspace, naming its roles and PUBLIC (and not again as a server warning)", () => {
    const open = (s: Parameters<Parameters<typeof checkTampered>[1]>[0]) =>
      reachOther(s, "template1", "PUBLIC", ["CONNECT", "TEMPORARY"], [...rolesOf("emea_support"), ...rolesOf("internal"), ...rolesOf("us_sales")]);
    const r = checkTampered(checkDatabase, open);
    expect(r.summary).toEqual(["boundary workspace-reaches-other-database emea-support", "boundary workspace-reaches-other-database internal", "boundary workspace-reaches-other-database us-sales"]);
    const internal = r.findings.find((f) => f.workspace === "internal")!;
    expect(internal.object).toBe('database "template1"');
    expect(internal.message).toBe('roles of workspace "internal" reach database "template1", where no workspace boundary applies: '
      + '"acme__internal__app" CONNECT, TEMPORARY (through PUBLIC), "acme__internal__owner" CONNECT, TEMPORARY (through PUBLIC), "acme__internal__ro" CONNECT, TEMPORARY (through PUBLIC); '
      + 'PUBLIC\'s grant lets every login on the server in, and only "postgres" (the owner) or a superuser can revoke it');
    expect(internal.remediation).toBe('REVOKE CONNECT, TEMPORARY ON DATABASE "template1" FROM PUBLIC;');
    expect(checkTampered(checkServer, open).findings.filter((f) => f.id === "public-connect-on-database")).toEqual([]);
  });

  it("names a direct grant and a membership as the path, with what to revoke for each", () => {
    const r = checkTampered(checkDatabase, (s) => {
      reachOther(s, "template1", "acme__us_sales__app", ["CONNECT"], ["acme__us_sales__app"]);
      s.roles.push({ name: "side_users", login: false, superuser: false, createrole: false, createdb: false, replication: false, bypassrls: false, inherit: true });
      s.memberships.push({ role: "side_users", member: "acme__internal__ro", admin: false, inherit: true, set: true });
      reachOther(s, "template1", "side_users", ["CONNECT"], ["acme__internal__ro"]);
    });
    const reach = r.findings.filter((f) => f.id === "workspace-reaches-other-database");
    expect(reach.map((f) => [f.workspace, f.message.split(": ")[1], f.remediation])).toEqual([
      ["internal", '"acme__internal__ro" CONNECT (through its membership in "side_users")', 'REVOKE "side_users" FROM "acme__internal__ro";'],
      ["us-sales", '"acme__us_sales__app" CONNECT (granted to it)', 'REVOKE CONNECT ON DATABASE "template1" FROM "acme__us_sales__app";'],
    ]);
  });

  it("leaves a database no workspace role reaches to the server check (PUBLIC CONNECT before any workspace exists)", () => {
    const r = checkTampered(checkServer, (s) => { reachOther(s, "template1", "PUBLIC", ["CONNECT"], []); });
    expect(r.findings.filter((f) => f.id === "public-connect-on-database").map((f) => `${f.severity} ${f.object}`)).toEqual(['warning database "template1"']);
    expect(checkTampered(checkDatabase, (s) => { reachOther(s, "template1", "PUBLIC", ["CONNECT"], []); }).summary).toEqual([]);
  });
});
