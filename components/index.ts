// What users import to build tenancies from their own Pulumi programs.
export { Organization, ORGANIZATION_TYPE, type OrganizationArgs } from "./organization.ts";
export { Workspace, WORKSPACE_TYPE, type WorkspaceArgs } from "./workspace.ts";
export { schemaName } from "./naming.ts";
