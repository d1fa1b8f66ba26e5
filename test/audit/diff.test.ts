import { describe, expect, it } from "vitest";
import { CLASS_ORDER } from "../../audit/findings.ts";
import { auditTampered, dropRole, entry, relationOf, schemaOf, summary } from "./fixture.ts";

describe("audit diff on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    const r = auditTampered(() => {});
    expect(r.findings.filter((f) => f.class !== "server")).toEqual([]);
    expect(r.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(r.clean).toBe(true);
  });

  it("reports the auditor holding a workspace table, or a workspace role, as boundary", () => {
    const r = auditTampered((s) => {
      relationOf(s, "acme__internal", "integration_credentials").acl.push(entry("tenancy_auditor", "SELECT"));
      s.memberships.push({ role: "acme__us_sales__ro", member: "tenancy_auditor", admin: false, inherit: true, set: true });
    });
    expect(summary(r)).toEqual(["boundary grant-crosses-boundary internal", "boundary membership-crosses-boundary us-sales"]);
  });

  it("reports an orphan schema and role named like a workspace as unexpected", () => {
    const r = auditTampered((s) => {
      s.schemas.push({ name: "acme__ghost", owner: "postgres", acl: [entry("postgres", "USAGE"), entry("postgres", "CREATE")] });
      s.roles.push({ name: "acme__ghost__app", login: true, superuser: false, createrole: false, createdb: false, replication: false, bypassrls: false, inherit: true });
    });
    expect(summary(r)).toEqual(["unexpected role-unexpected ghost", "unexpected schema-unexpected ghost"]);
    expect(r.findings.filter((f) => f.class !== "server").every((f) => f.line === 21)).toBe(true); // the `workspaces:` key
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
