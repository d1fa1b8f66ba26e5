import { describe, expect, it } from "vitest";
import { CLASS_ORDER } from "../../audit/findings.ts";
import { auditTampered, dropRole, entry, relationOf, schemaOf, summary } from "./fixture.ts";

describe("audit diff on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    const r = auditTampered(() => {});
    expect(r.findings).toEqual([]);
    expect(r.clean).toBe(true);
  });

  it("reports another workspace's role with USAGE on a workspace schema as boundary", () => {
    const r = auditTampered((s) => schemaOf(s, "acme__emea_support").acl.push(entry("acme__us_sales__app", "USAGE")));
    expect(summary(r)).toEqual(["boundary grant-crosses-boundary emea-support"]);
    expect(r.findings[0]!.message).toBe('role "acme__us_sales__app" of workspace "us-sales" holds USAGE on schema "acme__emea_support": only workspace "emea-support"\'s own roles may reach its objects');
    expect(r.clean).toBe(false);
  });

  it("reports a workspace table readable by PUBLIC as boundary", () => {
    const r = auditTampered((s) => relationOf(s, "acme__internal", "integration_credentials").acl.push(entry("PUBLIC", "SELECT")));
    expect(summary(r)).toEqual(["boundary public-grant-in-workspace internal"]);
  });

  it("reports a column privilege of another workspace's role as boundary", () => {
    const r = auditTampered((s) => relationOf(s, "acme__us_sales", "integration_credentials").columnAcl.push({ ...entry("acme__internal__ro", "SELECT"), column: "slug" }));
    expect(summary(r)).toEqual(["boundary grant-crosses-boundary us-sales"]);
    expect(r.findings[0]!.object).toBe('column "slug" of table "acme__us_sales.integration_credentials"');
  });

  it("reports default privileges giving another workspace's role future tables as boundary", () => {
    // As ALTER DEFAULT PRIVILEGES does: one more entry in the existing row of that role, schema and type.
    const r = auditTampered((s) => s.defaultAcls.find((d) => d.role === "acme__internal__app" && d.schema === "acme__internal" && d.objectType === "tables")!.acl.push(entry("acme__us_sales__ro", "SELECT", "acme__internal__app")));
    expect(summary(r)).toEqual(["boundary default-privilege-crosses-boundary internal"]);
  });

  it("reports a workspace role with CREATEROLE (or any elevated attribute) as boundary", () => {
    const r = auditTampered((s) => { s.roles.find((x) => x.name === "acme__internal__app")!.createrole = true; s.roles.find((x) => x.name === "acme__us_sales__ro")!.bypassrls = true; });
    expect(summary(r)).toEqual(["boundary role-dangerous-attribute internal", "boundary role-dangerous-attribute us-sales"]);
    expect(r.findings[0]!.message).toContain("it has CREATEROLE");
  });

  it("reports a workspace role that is a member of another workspace's role, or of a predefined role, as boundary", () => {
    const r = auditTampered((s) => {
      s.memberships.push({ role: "acme__us_sales__owner", member: "acme__internal__app", admin: false, inherit: true, set: true });
      s.memberships.push({ role: "pg_read_all_data", member: "acme__us_sales__ro", admin: false, inherit: true, set: true });
    });
    expect(summary(r)).toEqual(["boundary membership-crosses-boundary internal", "boundary membership-crosses-boundary us-sales"]);
  });

  it("reports a role outside the tenancy holding a workspace's role as boundary, but not the admin", () => {
    const r = auditTampered((s) => {
      s.memberships.push({ role: "acme__internal__app", member: "bob", admin: false, inherit: true, set: true });
      s.memberships.push({ role: "acme__internal__app", member: "postgres", admin: true, inherit: true, set: true });
    });
    expect(summary(r)).toEqual(["boundary membership-crosses-boundary internal"]);
    expect(r.findings[0]!.message).toContain('role "bob" (outside the tenancy)');
  });

  it("reports a workspace role reaching the control plane as boundary", () => {
    const r = auditTampered((s) => relationOf(s, "tenancy_control", "memberships").acl.push(entry("acme__internal__app", "SELECT")));
    expect(summary(r)).toEqual(["boundary control-plane-reachable internal"]);
  });

  it("reports a missing revoke of PUBLIC's EXECUTE on an app role's future functions as boundary", () => {
    const r = auditTampered((s) => { s.defaultAcls = s.defaultAcls.filter((d) => !(d.role === "acme__internal__app" && d.schema === undefined)); });
    expect(summary(r)).toEqual(["boundary public-grant-in-workspace internal"]);
    expect(r.findings[0]!.message).toContain("revoke-default-functions-app-public");
  });

  it("reports a dropped app role as missing", () => {
    const r = auditTampered((s) => dropRole(s, "acme__internal__app"));
    expect(summary(r)).toEqual(["missing role-missing internal"]);
  });

  it("reports a dropped auditor role as missing, organization-wide", () => {
    const r = auditTampered((s) => dropRole(s, "tenancy_auditor"));
    expect(summary(r)).toEqual(["missing role-missing -"]);
    expect(r.findings[0]!.object).toBe('role "tenancy_auditor"');
  });

  it("reports the auditor holding a workspace table, or a workspace role, as boundary", () => {
    const r = auditTampered((s) => {
      relationOf(s, "acme__internal", "integration_credentials").acl.push(entry("tenancy_auditor", "SELECT"));
      s.memberships.push({ role: "acme__us_sales__ro", member: "tenancy_auditor", admin: false, inherit: true, set: true });
    });
    expect(summary(r)).toEqual(["boundary grant-crosses-boundary internal", "boundary membership-crosses-boundary us-sales"]);
  });

  it("reports a dropped sealed-credentials table as missing", () => {
    const r = auditTampered((s) => { s.relations = s.relations.filter((x) => !(x.schema === "acme__us_sales" && x.name === "integration_credentials")); });
    expect(summary(r)).toEqual(["missing credentials-table-missing us-sales"]);
    expect(r.findings[0]!.message).toBe('the sealed-credentials table table "acme__us_sales.integration_credentials" of workspace "us-sales" does not exist');
  });

  it("reports a tampered sealed-credentials table as changed, saying what is wrong", () => {
    const r = auditTampered((s) => {
      const change = (schema: string, facts: object) => { const r = relationOf(s, schema, "integration_credentials"); r.credentials = { ...r.credentials!, ...facts }; };
      const columns = relationOf(s, "acme__emea_support", "integration_credentials").credentials!.columns!;
      change("acme__emea_support", { triggers: 1, columns: [...columns, "extra:25:false:false"] });
      change("acme__internal", { owner: "acme__internal__app" });
      change("acme__us_sales", { relkind: "v" });
    });
    expect(summary(r)).toEqual(["changed credentials-table-changed emea-support", "changed credentials-table-changed internal", "changed credentials-table-changed us-sales"]);
    expect(r.findings.map((f) => f.found)).toEqual([
      ["it has 1 trigger(s)", 'it has an unexpected column "extra"'],
      ['it is owned by "acme__internal__app", not "acme__internal__owner"'],
      ["it is not a plain table (relkind 'v')"],
    ]);
  });

  it("reports a missing read grant as missing", () => {
    const r = auditTampered((s) => { s.defaultAcls = s.defaultAcls.filter((d) => !(d.role === "acme__us_sales__app" && d.schema === "acme__us_sales")); });
    expect(summary(r)).toEqual(["missing privilege-missing us-sales"]);
  });

  it("reports the read-only role reading the sealed credentials as unexpected", () => {
    const r = auditTampered((s) => relationOf(s, "acme__us_sales", "integration_credentials").acl.push(entry("acme__us_sales__ro", "SELECT")));
    expect(summary(r)).toEqual(["unexpected privilege-unexpected us-sales"]);
  });

  it("reports an orphan schema and role named like a workspace as unexpected", () => {
    const r = auditTampered((s) => {
      s.schemas.push({ name: "acme__ghost", owner: "postgres", acl: [entry("postgres", "USAGE"), entry("postgres", "CREATE")] });
      s.roles.push({ name: "acme__ghost__app", login: true, superuser: false, createrole: false, createdb: false, replication: false, bypassrls: false, inherit: true });
    });
    expect(summary(r)).toEqual(["unexpected role-unexpected ghost", "unexpected schema-unexpected ghost"]);
    expect(r.findings.every((f) => f.line === 21)).toBe(true); // the `workspaces:` key
  });

  it("reports an undeclared member as unexpected and a changed role as changed, and runs the rules on the state as found", () => {
    const r = auditTampered((s) => {
      s.controlPlane.memberships.push({ workspace_slug: "internal", email: "ben@acme.test", role: "viewer" });
      s.controlPlane.memberships.find((m) => m.workspace_slug === "us-sales" && m.email === "ben@acme.test")!.role = "viewer";
    });
    expect(summary(r)).toEqual(["rule workspace-has-admin us-sales", "unexpected member-unexpected internal", "changed member-role-changed us-sales"]);
    expect(r.findings[2]).toMatchObject({ declared: "admin", found: "viewer", line: 37 });
  });

  it("reports undeclared integrations and workspaces, and changed records", () => {
    const r = auditTampered((s) => {
      s.controlPlane.integrations.push({ workspace_slug: "internal", slug: "dropbox", provider: "dropbox", credentials_secret_name: "internalDropbox" });
      s.controlPlane.workspaces.push({ slug: "shadow", name: "Shadow", decommissioned: false });
      s.controlPlane.workspaces.find((w) => w.slug === "internal")!.name = "Internal (renamed)";
    });
    expect(summary(r)).toEqual(["rule workspace-has-admin shadow", "unexpected integration-unexpected internal", "unexpected record-unexpected shadow", "changed record-changed internal"]);
  });

  it("reports invitations pending longer than the threshold as information only", () => {
    const r = auditTampered(() => {}, { pendingInvitationDays: 7 });
    expect(new Set(summary(r))).toEqual(new Set(["info invitation-pending emea-support", "info invitation-pending internal", "info invitation-pending us-sales"]));
    expect(r.counts.info).toBe(7);
    expect(r.clean).toBe(true);
    expect(auditTampered(() => {}, { pendingInvitationDays: 30 }).counts.info).toBe(0);
  });

  it("says why it could not read the control plane", () => {
    const r = auditTampered((s) => { s.controlPlane = { ...s.controlPlane, unreadable: "tenancy_control.people has row-level security enabled (its policies would run as the auditor); not read" }; });
    expect(summary(r)).toEqual(["boundary control-plane-unreadable -"]);
  });

  it("orders findings by class, most dangerous first", () => {
    const r = auditTampered((s) => {
      s.controlPlane.workspaces.find((w) => w.slug === "internal")!.name = "X";
      dropRole(s, "acme__internal__ro");
      schemaOf(s, "acme__internal").acl.push(entry("PUBLIC", "USAGE"));
    });
    const classes = r.findings.map((f) => CLASS_ORDER.indexOf(f.class));
    expect(classes).toEqual([...classes].sort((a, b) => a - b));
    expect(r.findings[0]!.class).toBe("boundary");
  });
});
