// npm run schema:write-audit — regenerates audit/audit-result.schema.json from the zod schema.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { AUDIT_SCHEMA_FILE, auditResultJsonSchema } from "../audit/result-schema.ts";

await writeFile(fileURLToPath(new URL(`../${AUDIT_SCHEMA_FILE}`, import.meta.url)), auditResultJsonSchema());
console.log(`wrote ${AUDIT_SCHEMA_FILE}`);
