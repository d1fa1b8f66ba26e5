// The one typed model every adapter reads (validate, components, policy pack, audit). Its types
// derive from the zod schema; normalisation adds only what every consumer would otherwise
// recompute (comparison keys for emails) and fills defaults.
//
// Arrays keep the declaration's order, so a violation's path (`workspaces[3].members[1]`) points
// into the YAML as well as into the model; adapters that rebuild a model from resources keep
// the same shape and map paths back to their resources.
import type { z } from "zod";
import { emailKey as normalizeEmail } from "./formats.ts";
import {
  MembershipMode,
  type LenientDeclarationSchema, type MemberDecl, type OrganizationDecl, type PersonDecl, type WorkspaceDecl,
} from "./schema.ts";

export interface Person extends PersonDecl {
  /** `email` after NFKC and lower-casing: the identity used for every comparison. */
  readonly key: string;
}

export interface Member extends MemberDecl {
  /** `email` after NFKC and lower-casing. */
  readonly key: string;
}

export interface Workspace extends Omit<WorkspaceDecl, "members"> {
  readonly members: readonly Member[];
  /**
   * Set only when something was declared *inside* this workspace as a workspace (a `workspaces`
   * key in YAML, or a Workspace resource parented to this one). Always a mistake.
   */
  readonly nested?: unknown;
}

export interface Organization extends Omit<OrganizationDecl, "people"> {
  readonly people: readonly Person[];
}

export interface TenancyModel {
  readonly version: 1;
  /** Absent only in a broken declaration (reported by `workspace-requires-organization`). */
  readonly organization?: Organization;
  readonly workspaces: readonly Workspace[];
}

type LenientDeclaration = z.output<typeof LenientDeclarationSchema>;

/**
 * Builds the model from a parsed declaration (strict, or lenient when strict failed).
 *
 * The declaration must be zod's output, which is freshly built on every parse and owned by the
 * caller: people and members get their `key` in place rather than being copied, because they
 * are most of a large declaration (50,000 members at 1,000 workspaces × 50) and each copy is
 * garbage the collector then has to walk. Keys are added in the order a copy would have them.
 */
export function normalize(declaration: LenientDeclaration): TenancyModel {
  const org = declaration.organization;
  // Members repeat the directory's emails: normalise each distinct spelling once.
  const keys = new Map<string, string>();
  const emailKey = (email: string) => {
    let key = keys.get(email);
    if (key === undefined) keys.set(email, (key = normalizeEmail(email)));
    return key;
  };
  const keyed = <T extends { readonly email: string }>(list: readonly T[]): (T & { readonly key: string })[] => {
    for (const item of list) (item as T & { key: string }).key = emailKey(item.email);
    return list as (T & { readonly key: string })[];
  };
  return {
    version: 1,
    organization: org && {
      ...org,
      membership: org.membership ?? MembershipMode.Multi,
      people: keyed(org.people),
    },
    workspaces: declaration.workspaces.map((ws): Workspace => {
      const members = keyed(ws.members);
      // Only the lenient schema keeps a `workspaces` key (nested workspaces, always a mistake):
      // renamed `nested` on a copy, the one case where the workspace is not reused.
      if (!("workspaces" in ws)) return Object.assign(ws, { members });
      const { workspaces: nested, ...rest } = ws;
      return { ...rest, members, ...(nested !== undefined ? { nested } : {}) };
    }),
  };
}

/** Permissions granted by a role, or undefined when the catalogue lacks it. */
export function permissionsOf(org: Organization | undefined, role: string | undefined): readonly string[] | undefined {
  if (!org || role === undefined) return undefined;
  return Object.hasOwn(org.roles, role) ? org.roles[role] : undefined;
}
