// The JSON Schema editors use to autocomplete and check tenancy.yaml, generated from the zod
// schema. Committed as config/tenancy.schema.json; a test fails when it is out of date.
import { z } from "zod";
import { DeclarationSchema } from "./schema.ts";

export const JSON_SCHEMA_FILE = "config/tenancy.schema.json";

export function declarationJsonSchema(): string {
  // Input side: keys with defaults are optional to write. Draft 7 is what most YAML editors read.
  const schema = z.toJSONSchema(DeclarationSchema, { io: "input", target: "draft-7" });
  return JSON.stringify({ title: "tenancy-as-code declaration", ...schema }, null, 2) + "\n";
}
