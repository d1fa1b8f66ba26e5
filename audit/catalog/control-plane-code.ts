// Control-plane integrity: code attached to tenancy_control's tables runs as whoever writes them
// (the admin, on every apply): a trigger setting NEW.role := 'admin' on memberships, a rule
// rewriting writes to workspaces, a row-level security policy. Every table, sequence and
// function there is the admin's; SECURITY DEFINER functions there, or in a workspace schema but
// owned by a role not the workspace's, run their callers with their owner's rights; an event
// trigger runs on the admin's DDL.
import { CONTROL_SCHEMA } from "../../components/naming.ts";
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { ident, q, type CatalogContext } from "./context.ts";

export function checkControlPlaneCode({ live, admin, roleOwner, schemaOwner, holder, add }: CatalogContext): void {
  const control = { kind: "control" } as const;
  const table = (name: string) => `${ident(CONTROL_SCHEMA)}.${ident(name)}`;
  const code = live.controlPlaneCode;
  for (const t of code.triggers) {
    add(C.boundary, Id.controlPlaneTrigger, control, `trigger ${q(t.name)} on table ${q(`${CONTROL_SCHEMA}.${t.table}`)}`,
      `trigger ${q(t.name)} on table ${q(`${CONTROL_SCHEMA}.${t.table}`)} runs ${q(t.function)}${t.enabled ? "" : " (disabled)"} whenever the table is written, as whoever writes it (the admin, on apply)`,
      { remediation: `DROP TRIGGER ${ident(t.name)} ON ${table(t.table)};` });
  }
  for (const r of code.rules) {
    add(C.boundary, Id.controlPlaneRule, control, `rule ${q(r.name)} on table ${q(`${CONTROL_SCHEMA}.${r.table}`)}`,
      `rule ${q(r.name)} rewrites ${r.event} on table ${q(`${CONTROL_SCHEMA}.${r.table}`)}: the admin's writes would do something else`,
      { remediation: `DROP RULE ${ident(r.name)} ON ${table(r.table)};` });
  }
  for (const p of code.policies) {
    add(C.boundary, Id.controlPlanePolicy, control, `policy ${q(p.name)} on table ${q(`${CONTROL_SCHEMA}.${p.table}`)}`,
      `row-level security policy ${q(p.name)} on table ${q(`${CONTROL_SCHEMA}.${p.table}`)} (for ${p.roles.join(", ")}) is code that runs as whoever reads or writes it`,
      { remediation: `DROP POLICY ${ident(p.name)} ON ${table(p.table)}; ALTER TABLE ${table(p.table)} DISABLE ROW LEVEL SECURITY;` });
  }
  for (const r of live.relations) {
    if (r.schema !== CONTROL_SCHEMA || r.owner === admin) continue;
    const object = `${r.kind} ${q(`${r.schema}.${r.name}`)}`;
    add(C.boundary, Id.controlPlaneOwner, control, object, `${object} is owned by ${holder(r.owner)}, not the admin ${q(admin)}: its owner may alter it, attach triggers or read every organization's rows`,
      { declared: admin, found: r.owner, remediation: `ALTER ${r.kind === "sequence" ? "SEQUENCE" : r.kind === "view" ? "VIEW" : "TABLE"} ${table(r.name)} OWNER TO ${ident(admin)};` });
  }
  for (const f of live.functions) {
    const where = schemaOwner(f.schema);
    const object = `function ${q(`${f.schema}.${f.signature}`)}`;
    const sql = `FUNCTION ${ident(f.schema)}.${ident(f.signature.slice(0, f.signature.indexOf("(")))}${f.signature.slice(f.signature.indexOf("("))}`;
    if (where.kind === "control" && f.owner !== admin) {
      add(C.boundary, Id.controlPlaneOwner, control, object, `${object} is owned by ${holder(f.owner)}, not the admin ${q(admin)}`, { declared: admin, found: f.owner, remediation: `DROP ${sql};` });
    }
    if (!f.securityDefiner) continue;
    const owner = roleOwner(f.owner);
    if (where.kind === "control") {
      add(C.boundary, Id.securityDefinerFunction, control, object, `${object} is SECURITY DEFINER: whoever may execute it runs it with ${holder(f.owner)}'s rights over the control plane`,
        { remediation: `DROP ${sql};` });
    } else if (where.kind === "workspace" && !(owner.kind === "workspace" && owner.slug === where.slug)) {
      add(C.boundary, Id.securityDefinerFunction, where, object, `${object} in workspace ${q(where.slug)} is SECURITY DEFINER and owned by ${owner.kind === "admin" ? `the admin ${q(f.owner)}` : holder(f.owner)}: the workspace's roles run it with rights beyond their workspace`,
        { remediation: `DROP ${sql};` });
    }
  }
  for (const e of live.server.eventTriggers) {
    add(C.boundary, Id.eventTrigger, { kind: "other" }, `event trigger ${q(e.name)}`,
      `event trigger ${q(e.name)} of ${holder(e.owner)} runs ${q(e.function)} on ${e.event}${e.enabled ? "" : " (disabled)"} in database ${q(live.database.name)}, on the admin's DDL too`,
      { remediation: `DROP EVENT TRIGGER ${ident(e.name)};` });
  }
}
