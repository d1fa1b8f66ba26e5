// Schemas: each declared workspace's exists, owned by its owner role; one named like a
// workspace's but undeclared is reported.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { q, type CatalogContext } from "./context.ts";

export function checkSchemas({ expected, live, index, schemaOwner, add }: CatalogContext): void {
  for (const ws of expected.workspaces) {
    const s = index.schemas.get(ws.names.schema);
    const where = schemaOwner(ws.names.schema);
    if (!s) add(C.missing, Id.schemaMissing, where, `schema ${q(ws.names.schema)}`, `the schema ${q(ws.names.schema)} of workspace ${q(ws.slug)} does not exist`);
    else if (s.owner !== ws.names.owner) {
      add(C.changed, Id.schemaOwnerChanged, where, `schema ${q(s.name)}`, `schema ${q(s.name)} must be owned by ${q(ws.names.owner)}; found ${q(s.owner)}`, { declared: ws.names.owner, found: s.owner });
    }
  }
  for (const s of live.schemas) {
    const owner = schemaOwner(s.name);
    if (owner.kind === "workspace" && !owner.declared) add(C.unexpected, Id.schemaUnexpected, owner, `schema ${q(s.name)}`, `schema ${q(s.name)} is named like a workspace's but no declared workspace has it`);
  }
}
