// Names derived from slugs. Pure (no Pulumi, no SQL): the components and the rules both use it.
// PostgreSQL silently truncates identifiers at 63 bytes, so derived names are checked up front
// (rule `resource-names-valid`), never cut.

export const MAX_IDENTIFIER_BYTES = 63;
/** The schema holding the control-plane records the SaaS reads, shared by every organization. */
export const CONTROL_SCHEMA = "tenancy_control";
/**
 * The read-only auditor group role (NOLOGIN), one per server like the control plane it reads:
 * the control-plane tables hold every organization's rows with nothing separating them, so a
 * role per organization would promise an isolation it could not keep. Workspace names always
 * hold `__`, so it can never be a workspace's.
 */
export const AUDITOR_ROLE = "tenancy_auditor";

/**
 * The table in each workspace schema holding its sealed integration credentials: readable by
 * the workspace's app role only, so grants to "all tables" leave it out.
 */
export const CREDENTIALS_TABLE = "integration_credentials";

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/**
 * A plain lower-case PostgreSQL identifier that fits 63 bytes: what every name the toolkit
 * sends to SQL must be (checked again in the provider's `check`).
 */
export const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** PostgreSQL names of one workspace's boundary. `__` separates the parts: slugs never hold `_`. */
export interface WorkspaceNames {
  /** The workspace's schema. */
  readonly schema: string;
  /** NOLOGIN role that owns the schema. */
  readonly owner: string;
  /** LOGIN role the SaaS connects as for this workspace. */
  readonly app: string;
  /** NOLOGIN read-only role (reporting, support). */
  readonly readonly: string;
}

export function workspaceNames(orgSlug: string, workspaceSlug: string): WorkspaceNames {
  const base = `${orgSlug}__${workspaceSlug}`.replace(/-/g, "_");
  return { schema: base, owner: `${base}__owner`, app: `${base}__app`, readonly: `${base}__ro` };
}

/** Kept for the thin slice's callers. */
export function schemaName(orgSlug: string, workspaceSlug: string): string {
  return identifier(workspaceNames(orgSlug, workspaceSlug).schema);
}

/** What is wrong with a derived identifier, or undefined. */
export function identifierProblem(name: string): string | undefined {
  if (!IDENTIFIER.test(name)) return `${JSON.stringify(name)} is not a plain lower-case PostgreSQL identifier`;
  // IDENTIFIER admits ASCII only, so characters are bytes (no encoder per name: the rule calls
  // this four times per workspace).
  const bytes = name.length;
  if (bytes > MAX_IDENTIFIER_BYTES) return `${JSON.stringify(name)} is ${bytes} bytes; PostgreSQL keeps only ${MAX_IDENTIFIER_BYTES}`;
  return undefined;
}

export function identifier(name: string): string {
  const problem = identifierProblem(name);
  if (problem) throw new Error(problem);
  return name;
}

/**
 * Which of a workspace's roles may log in: only the app role (the SaaS connects as it). The
 * WorkspaceDatabase component creates them so, and the audit expects exactly this.
 */
export const WORKSPACE_ROLE_LOGIN: Readonly<Record<Exclude<keyof WorkspaceNames, "schema">, boolean>> = {
  owner: false,
  app: true,
  readonly: false,
};
