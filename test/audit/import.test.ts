import { describe, expect, it } from "vitest";
import { auditState, loadValidDeclaration } from "../../audit/audit.ts";
import { importDeclaration } from "../../audit/import.ts";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../../components/control-plane/args.ts";
import { checkDeclaration } from "../../policies/declaration.ts";
import { devDeclaration, devLive } from "./fixture.ts";
import type { TenancyModel } from "../../config/model.ts";

/** Everything the components write, keyed (so order does not matter). */
const records = (m: TenancyModel) => ({
  organization: organizationRecordArgs(m),
  workspaces: Object.fromEntries(m.workspaces.map((ws) => [ws.slug, { record: workspaceRecordArgs(m, ws, { decommissioned: ws.decommissioned }), members: workspaceMembersArgs(m, ws) }])),
});

describe("tenancy import", () => {
  const imported = importDeclaration(devLive(), "database postgres")!;

  it("writes the dev stack's declaration back from its live state (golden)", async () => {
    await expect(imported.yaml).toMatchFileSnapshot("__snapshots__/import-dev.yaml");
    expect(imported.notes).toEqual([]);
  });

  it("writes a declaration that validates, with the same records the original declares", () => {
    const report = checkDeclaration(imported.yaml, "imported.yaml");
    expect(report.violations).toEqual([]);
    expect(records(report.model!)).toEqual(records(devDeclaration().model));
  });

  it("audits clean against the state it came from", () => {
    const d = loadValidDeclaration(imported.yaml, "imported.yaml");
    if ("errors" in d) throw new Error(d.errors.join("\n"));
    // Server-level warnings of the fixture's embedded server (no TLS, ...) are no part of the tenancy.
    expect(auditState(d, devLive(), { pendingInvitationDays: 365 }).findings.filter((f) => f.class !== "server")).toEqual([]);
  });

  it("says what it could not recover, in comments and notes", () => {
    const live = devLive() as ReturnType<typeof devLive> & { schemas: { name: string; owner: string; acl: [] }[] };
    const state = { ...live, schemas: [...live.schemas, { name: "acme__ghost", owner: "postgres", acl: [] }], controlPlane: { ...live.controlPlane, people: live.controlPlane.people.map((p) => ({ ...p, name: null })) } };
    const r = importDeclaration(state, "database postgres")!;
    expect(r.notes).toEqual(["4 people have no name recorded", "schemas without a recorded workspace were not imported: acme__ghost"]);
    expect(r.yaml).toContain("# Not imported: schema acme__ghost named like a workspace's");
    expect(r.yaml).toContain("# credentials not imported: set them with `pulumi config set --secret credentials:emeaSlackToken`");
    expect(checkDeclaration(r.yaml, "x.yaml").violations).toEqual([]);
  });

  it("returns nothing for an organization the control plane does not hold", () => {
    const live = devLive();
    expect(importDeclaration({ ...live, controlPlane: { ...live.controlPlane, organization: undefined } } as typeof live, "x")).toBeUndefined();
  });
});

describe("tenancy import quoting", () => {
  it("keeps names with commas, braces, colons and quotes intact", () => {
    const live = devLive();
    const odd = 'Ana "Ace" Ruiz, {lead}: #1';
    const state = { ...live, controlPlane: { ...live.controlPlane, people: live.controlPlane.people.map((p) => (p.email === "ana@acme.test" ? { ...p, name: odd } : p)) } };
    const r = importDeclaration(state, "x")!;
    const report = checkDeclaration(r.yaml, "x.yaml");
    expect(report.violations).toEqual([]);
    expect(report.model!.organization!.people.find((p) => p.key === "ana@acme.test")!.name).toBe(odd);
  });
});
