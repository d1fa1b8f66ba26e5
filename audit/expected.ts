// What should exist, derived from the model with the code the components use: names from
// components/naming.ts, privileges from components/grants.ts, control-plane records from
// components/control-plane/args.ts. Nothing here restates a name, a grant or a record shape.
import type { TenancyModel } from "../config/model.ts";
import {
  organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs,
  type OrganizationRecordArgs, type WorkspaceMembersArgs, type WorkspaceRecordArgs,
} from "../components/control-plane/args.ts";
import { workspaceGrants, type GrantDescriptor } from "../components/grants.ts";
import { AUDITOR_ROLE, WORKSPACE_ROLE_LOGIN, workspaceNames, type WorkspaceNames } from "../components/naming.ts";

/** Every schema and role the toolkit derives for `organization` starts with this (`acme__`). */
export function organizationPrefix(organization: string): string {
  return workspaceNames(organization, "").schema;
}

export type RolePart = keyof typeof WORKSPACE_ROLE_LOGIN;

export interface ExpectedRole {
  readonly name: string;
  readonly part: RolePart;
  readonly login: boolean;
}

export interface ExpectedWorkspace {
  /** Index in `model.workspaces` (and in the declaration). */
  readonly index: number;
  readonly slug: string;
  readonly names: WorkspaceNames;
  readonly roles: readonly ExpectedRole[];
  readonly grants: readonly GrantDescriptor[];
  readonly record: WorkspaceRecordArgs;
  readonly members: WorkspaceMembersArgs;
}

export interface Expected {
  readonly organization: string;
  readonly prefix: string;
  /** The auditor group role (one per server, made with the control plane). */
  readonly auditor: string;
  readonly record: OrganizationRecordArgs;
  readonly workspaces: readonly ExpectedWorkspace[];
}

/** The expected state of a validated model whose workspaces live in `database`. */
export function expectedState(model: TenancyModel, database: string): Expected {
  const org = model.organization;
  if (!org) throw new Error("the audit needs a declaration with an organization");
  return {
    organization: org.slug,
    prefix: organizationPrefix(org.slug),
    auditor: AUDITOR_ROLE,
    record: organizationRecordArgs(model),
    workspaces: model.workspaces.map((ws, index) => {
      const names = workspaceNames(org.slug, ws.slug);
      const roles = (Object.keys(WORKSPACE_ROLE_LOGIN) as RolePart[]).map((part) => ({ name: names[part], part, login: WORKSPACE_ROLE_LOGIN[part] }));
      return {
        index, slug: ws.slug, names, roles,
        grants: workspaceGrants(names, database),
        record: workspaceRecordArgs(model, ws, { decommissioned: ws.decommissioned }),
        members: workspaceMembersArgs(model, ws),
      };
    }),
  };
}

/**
 * A workspace slug a stray name suggests (`acme__ghost__app` -> `ghost`), for grouping only:
 * slugs have dashes where names have underscores.
 */
export function strayWorkspace(prefix: string, name: string): string {
  return name.slice(prefix.length).replace(/__(owner|app|ro)$/, "").replace(/_/g, "-");
}
