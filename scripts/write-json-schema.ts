// npm run schema:write — regenerates config/tenancy.schema.json from the zod schema.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { declarationJsonSchema, JSON_SCHEMA_FILE } from "../config/json-schema.ts";

const target = fileURLToPath(new URL(`../${JSON_SCHEMA_FILE}`, import.meta.url));
await writeFile(target, declarationJsonSchema());
console.log(`wrote ${JSON_SCHEMA_FILE}`);
