import { describe, expect, it } from "vitest";
import { checkControlPlaneCode } from "../../../audit/catalog/control-plane-code.ts";
import { checkTampered, relationOf } from "../fixture.ts";

describe("checkControlPlaneCode on the dev stack's live state", () => {
  it("finds nothing on the state the declaration produced", () => {
    expect(checkTampered(checkControlPlaneCode, () => {}).summary).toEqual([]);
  });

  it("reports triggers, rules and policies on control-plane tables, with the SQL that drops them", () => {
    const r = checkTampered(checkControlPlaneCode, (s) => {
      s.controlPlaneCode.triggers.push({ table: "memberships", name: "promote", function: "tenancy_control.promote", enabled: true });
      s.controlPlaneCode.rules.push({ table: "workspaces", name: "keep", event: "DELETE" });
      s.controlPlaneCode.policies.push({ table: "people", name: "everyone", roles: ["PUBLIC"] });
    });
    expect(r.summary).toEqual(["boundary control-plane-policy -", "boundary control-plane-rule -", "boundary control-plane-trigger -"]);
    expect(r.findings.map((f) => f.remediation)).toEqual([
      'DROP POLICY "everyone" ON "tenancy_control"."people"; ALTER TABLE "tenancy_control"."people" DISABLE ROW LEVEL SECURITY;',
      'DROP RULE "keep" ON "tenancy_control"."workspaces";',
      'DROP TRIGGER "promote" ON "tenancy_control"."memberships";',
    ]);
  });

  it("reports a control-plane table not owned by the admin, SECURITY DEFINER functions and event triggers", () => {
    const r = checkTampered(checkControlPlaneCode, (s) => {
      relationOf(s, "tenancy_control", "invitations").owner = "squatter";
      s.functions.push({ schema: "acme__internal", signature: "peek()", owner: "postgres", acl: [], securityDefiner: true });
      s.functions.push({ schema: "acme__internal", signature: "own()", owner: "acme__internal__owner", acl: [], securityDefiner: true });
      s.server.eventTriggers.push({ name: "snoop", event: "ddl_command_end", owner: "postgres", function: "public.snoop", enabled: true });
    });
    expect(r.summary).toEqual(["boundary event-trigger -", "boundary control-plane-owner -", "boundary security-definer-function internal"]);
    expect(r.findings[2]!.message).toContain('owned by the admin "postgres"');
    expect(r.findings[2]!.remediation).toBe('DROP FUNCTION "acme__internal"."peek"();');
  });
});
