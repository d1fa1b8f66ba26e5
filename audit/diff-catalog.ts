// The PostgreSQL half of the diff: schemas, roles, attributes, memberships, privileges and
// default privileges as found, against the boundary components/grants.ts draws. Pure. Each kind
// of finding is one module in audit/catalog/ over the shared shape of audit/catalog/context.ts.
import type { Expected } from "./expected.ts";
import type { Finding } from "./findings.ts";
import type { LiveState } from "./live-state.ts";
import { catalogContext, type CatalogContext, type CatalogDiffOptions } from "./catalog/context.ts";
import { checkControlPlaneCode } from "./catalog/control-plane-code.ts";
import { checkCredentialsTables } from "./catalog/credentials-table.ts";
import { checkDatabase } from "./catalog/database.ts";
import { checkDefaultPrivileges } from "./catalog/default-privileges.ts";
import { checkDescriptors } from "./catalog/descriptors.ts";
import { checkLargeObjects } from "./catalog/large-objects.ts";
import { checkMemberships } from "./catalog/memberships.ts";
import { checkPrivileges } from "./catalog/privileges.ts";
import { checkRoles } from "./catalog/roles.ts";
import { checkSchemas } from "./catalog/schemas.ts";
import { checkServer } from "./catalog/server.ts";

export type { CatalogDiffOptions } from "./catalog/context.ts";

/** Every catalog check, in the order they report (the result is sorted by risk afterwards). */
export const CATALOG_CHECKS: readonly ((ctx: CatalogContext) => void)[] = [
  checkRoles, checkSchemas, checkDescriptors, checkCredentialsTables, checkPrivileges, checkDefaultPrivileges, checkDatabase, checkMemberships,
  checkLargeObjects, checkControlPlaneCode, checkServer,
];

export function diffCatalog(expected: Expected, live: LiveState, options: CatalogDiffOptions = {}): Finding[] {
  const ctx = catalogContext(expected, live, options);
  for (const check of CATALOG_CHECKS) check(ctx);
  return ctx.findings;
}
