// Names derived from slugs. PostgreSQL silently truncates identifiers at 63 bytes, so derived
// names are checked, never cut (issue #4 turns the check into a rule reported by validate).

/** Schemas and roles: lower case, `_` for `-`; `__` separates organization and workspace. */
export function schemaName(orgSlug: string, workspaceSlug: string): string {
  return identifier(`${orgSlug}__${workspaceSlug}`.replace(/-/g, "_"));
}

export const MAX_IDENTIFIER_BYTES = 63;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`${JSON.stringify(name)} is not a valid PostgreSQL identifier for the toolkit (${IDENTIFIER})`);
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) throw new Error(`${JSON.stringify(name)} is ${Buffer.byteLength(name)} bytes; PostgreSQL identifiers hold ${MAX_IDENTIFIER_BYTES}`);
  return name;
}
