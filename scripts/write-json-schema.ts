// npm run schema:write — regenerates the committed JSON Schemas from their zod schemas:
// config/tenancy.schema.json (the declaration) and policies/plan/plan.schema.json (`tenancy plan --format json`).
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { declarationJsonSchema, JSON_SCHEMA_FILE } from "../config/json-schema.ts";
import { PLAN_JSON_SCHEMA_FILE, planJsonSchema } from "../policies/plan/report.ts";

for (const [file, text] of [[JSON_SCHEMA_FILE, declarationJsonSchema()], [PLAN_JSON_SCHEMA_FILE, planJsonSchema()]] as const) {
  await writeFile(fileURLToPath(new URL(`../${file}`, import.meta.url)), text);
  console.log(`wrote ${file}`);
}
