// The sealed-credentials table each boundary makes: there, and the plain table, owned by the
// workspace's owner role, that the provider agrees to write (components/credentials-table.ts).
import { credentialsTableProblems } from "../../components/credentials-table.ts";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { q, type CatalogContext } from "./context.ts";

export function checkCredentialsTables({ expected, index, schemaOwner, add }: CatalogContext): void {
  for (const ws of expected.workspaces) {
    if (!index.schemas.has(ws.names.schema)) continue;
    const where = schemaOwner(ws.names.schema);
    const object = `table ${q(`${ws.names.schema}.${CREDENTIALS_TABLE}`)}`;
    const table = index.relationsIn(ws.names.schema).find((r) => r.name === CREDENTIALS_TABLE);
    if (!table) { add(C.missing, Id.credentialsTableMissing, where, object, `the sealed-credentials table ${object} of workspace ${q(ws.slug)} does not exist`); continue; }
    const problems = table.credentials ? credentialsTableProblems(table.credentials, ws.names.owner) : [];
    if (problems.length > 0) {
      add(C.changed, Id.credentialsTableChanged, where, object, `${object} must be the toolkit's plain table owned by ${q(ws.names.owner)}, which the provider refuses to use otherwise; ${problems.join("; ")}`,
        { declared: `plain table owned by ${ws.names.owner}`, found: problems });
    }
  }
}
