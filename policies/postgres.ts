// PostgreSQL policies: no grant, role membership or default privilege crosses a workspace
// boundary or opens a workspace schema to PUBLIC — whether the components made it (the grants of a
// WorkspaceBoundary) or someone wrote it by hand (Grant, or @pulumi/postgresql's Grant, GrantRole,
// DefaultPrivileges). Resource policies: they judge one resource's inputs, so the engine stops
// the grant before it is created, even in an `up` that skips its preview.
import type { ReportViolation, ResourceValidationPolicy, ResourceValidationArgs } from "@pulumi/policy";
import { str } from "./view.ts";
import { Token } from "./tokens.ts";

const quote = (value: unknown) => JSON.stringify(value);
const ROLE_SUFFIXES = ["owner", "app", "ro"];
const PART = /^[a-z][a-z0-9_]*$/;

/**
 * The workspace a PostgreSQL name belongs to, by the naming of components/naming.ts: schema
 * `<org>__<ws>`, roles `<org>__<ws>__{owner,app,ro}` (slugs hold no "_" pairs, so "__" only
 * separates). Returns the workspace's schema name, or undefined for any other name.
 */
export function workspaceOfName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const parts = name.split("__");
  if (!parts.every((p) => PART.test(p))) return undefined;
  if (parts.length === 2) return name;
  if (parts.length === 3 && ROLE_SUFFIXES.includes(parts[2]!)) return `${parts[0]}__${parts[1]}`;
  return undefined;
}

/** What one grant-like resource does, whatever its provider. */
export interface GrantFacts {
  readonly grantee: string | undefined;
  readonly public: boolean;
  /** Schemas whose objects the grant reaches. */
  readonly schemas: readonly string[];
  /** Roles whose privileges the grantee gains (membership) or whose future objects it reaches. */
  readonly roles: readonly string[];
  /** A grant (true) or something that only takes away (revoke). */
  readonly grants: boolean;
}

const isPublic = (role: string | undefined) => role !== undefined && role.toUpperCase() === "PUBLIC";

const present = (value: unknown) => (value === undefined ? [] : [str(value)].filter((v): v is string => v !== undefined));

/** The facts of one descriptor of components/grants.ts (a Grant's inputs, or one of a boundary's grants). */
function descriptorFacts(p: Record<string, unknown>): GrantFacts {
  const on = (p.on ?? {}) as Record<string, unknown>;
  const kind = on.kind;
  const schemas = kind === "schema" || kind === "all-tables-in-schema" || kind === "default-privileges" ? present(on.schema) : [];
  const roles = kind === "default-privileges" ? present(on.forRole) : [];
  return { grantee: str(p.role), public: isPublic(str(p.role)), schemas, roles, grants: p.action === "grant" };
}

/** Every grant a resource makes: a boundary makes many, a grant-like resource one. */
export function allGrantFacts(args: Pick<ResourceValidationArgs, "type" | "props">): GrantFacts[] {
  if (args.type === Token.WorkspaceBoundary) {
    const grants = (args.props.grants ?? {}) as Record<string, unknown>;
    return Object.values(grants).filter((g): g is Record<string, unknown> => typeof g === "object" && g !== null).map(descriptorFacts);
  }
  const one = grantFacts(args);
  return one ? [one] : [];
}

/** Reads a grant-like resource's inputs through the policy proxy (unknowns: advisory at preview). */
export function grantFacts(args: Pick<ResourceValidationArgs, "type" | "props">): GrantFacts | undefined {
  const p = args.props;
  switch (args.type) {
    case Token.PgGrant:
      return descriptorFacts(p);
    case Token.PostgresGrant:
      return { grantee: str(p.role), public: isPublic(str(p.role)), schemas: present(p.schema), roles: [], grants: true };
    case Token.PostgresDefaultPrivileges:
      return { grantee: str(p.role), public: isPublic(str(p.role)), schemas: present(p.schema), roles: present(p.owner), grants: true };
    case Token.PostgresGrantRole:
      return { grantee: str(p.role), public: isPublic(str(p.role)), schemas: [], roles: present(p.grantRole), grants: true };
    default:
      return undefined;
  }
}

const GRANT_TYPES = [Token.WorkspaceBoundary, Token.PgGrant, Token.PostgresGrant, Token.PostgresDefaultPrivileges, Token.PostgresGrantRole] as readonly string[];

export const grantWithinWorkspace: ResourceValidationPolicy = {
  name: "grant-within-workspace",
  description: "Checks that no grant, role membership or default privilege gives one workspace's role access to another workspace's schema, roles or future objects.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Remove the grant: a workspace's roles reach only its own schema. Data shared between workspaces goes through the SaaS, never through PostgreSQL privileges.",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (!GRANT_TYPES.includes(args.type)) return;
    for (const facts of allGrantFacts(args)) {
      if (!facts.grants || facts.public) continue;
      const home = workspaceOfName(facts.grantee);
      if (home === undefined) continue;
      for (const schema of facts.schemas) {
        const other = workspaceOfName(schema);
        if (other !== undefined && other !== home) report(`${args.type.split(":").pop()} ${quote(args.name)} gives role ${quote(facts.grantee)} of workspace ${quote(home)} access to schema ${quote(schema)} of workspace ${quote(other)}; a workspace's roles must reach only its own schema`);
      }
      for (const role of facts.roles) {
        const other = workspaceOfName(role);
        if (other !== undefined && other !== home) report(`${args.type.split(":").pop()} ${quote(args.name)} gives role ${quote(facts.grantee)} of workspace ${quote(home)} the privileges or future objects of role ${quote(role)} of workspace ${quote(other)}; a workspace's roles must reach only its own schema`);
      }
    }
  },
};

export const noPublicGrantInWorkspace: ResourceValidationPolicy = {
  name: "no-public-grant-in-workspace",
  description: "Checks that no grant or default privilege gives PUBLIC anything in a workspace's schema or on a workspace role's future objects.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Remove the grant to PUBLIC; grant to the workspace's own app or read-only role instead.",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (!GRANT_TYPES.includes(args.type)) return;
    for (const facts of allGrantFacts(args)) {
      if (!facts.grants || !facts.public) continue;
      const reached = [...facts.schemas, ...facts.roles].filter((name) => workspaceOfName(name) !== undefined);
      for (const name of reached) {
        report(`${args.type.split(":").pop()} ${quote(args.name)} gives PUBLIC privileges reaching ${quote(name)} of workspace ${quote(workspaceOfName(name))}; nothing in a workspace is granted to PUBLIC`);
      }
    }
  },
};

export const postgresPolicies: readonly ResourceValidationPolicy[] = [grantWithinWorkspace, noPublicGrantInWorkspace];
