// Input problems of the control-plane records that the database would also refuse, reported at
// preview with the property at fault. Pure: the provider's check runs them.
import { HEX_COLOUR } from "../../config/formats.ts";
import type { OrganizationRecordArgs, WorkspaceRecordArgs } from "./args.ts";

/** Input problems the database would also refuse, reported at preview with the property at fault. */
export function organizationRecordProblems(o: OrganizationRecordArgs): { property: string; reason: string }[] {
  const problems: { property: string; reason: string }[] = [];
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(o.slug)) problems.push({ property: "slug", reason: `organization slug ${JSON.stringify(o.slug)} must match ^[a-z][a-z0-9-]{1,30}$` });
  if (o.billingMode !== "rollup" && o.billingMode !== "per-workspace") problems.push({ property: "billingMode", reason: `billing mode must be rollup or per-workspace; got ${JSON.stringify(o.billingMode)}` });
  const allowance = o.creditPool?.monthlyAllowance;
  if (allowance !== undefined && !(Number.isSafeInteger(allowance) && allowance >= 0)) problems.push({ property: "creditPool", reason: `monthlyAllowance must be a non-negative safe integer; got ${allowance}` });
  for (const [key, person] of Object.entries(o.people ?? {})) {
    if (person.orgRole !== undefined && !Object.hasOwn(o.roles ?? {}, person.orgRole)) {
      problems.push({ property: "people", reason: `orgRole "${person.orgRole}" of ${key} must be in the role catalogue` });
    }
  }
  return problems;
}

/** Input problems the database would also refuse, reported at preview with the property at fault. */
export function workspaceRecordProblems(w: WorkspaceRecordArgs): { property: string; reason: string }[] {
  const problems: { property: string; reason: string }[] = [];
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(w.slug)) problems.push({ property: "slug", reason: `workspace slug ${JSON.stringify(w.slug)} must match ^[a-z][a-z0-9-]{0,39}$` });
  const allowance = w.creditPool?.monthlyAllowance;
  if (allowance !== undefined && !(Number.isSafeInteger(allowance) && allowance >= 0)) problems.push({ property: "creditPool", reason: `monthlyAllowance must be a non-negative safe integer; got ${allowance}` });
  if (w.exportProfile && !HEX_COLOUR.test(w.exportProfile.accentColour)) problems.push({ property: "exportProfile", reason: `accentColour must be #RRGGBB; got ${JSON.stringify(w.exportProfile.accentColour)}` });
  for (const [slug, agent] of Object.entries(w.agents ?? {})) {
    if (agent.styleMemoryFrom !== undefined && !Object.hasOwn(w.agents, agent.styleMemoryFrom)) {
      problems.push({ property: "agents", reason: `agent "${slug}" takes style memory from "${agent.styleMemoryFrom}", which is not an agent of workspace "${w.slug}"` });
    }
  }
  return problems;
}
