// What users import to build tenancies from their own Pulumi programs.
export { Organization, ORGANIZATION_TYPE, type OrganizationArgs } from "./organization.ts";
export { Workspace, WORKSPACE_TYPE, type WorkspaceArgs } from "./workspace.ts";
export { WorkspaceSecrets, WORKSPACE_SECRETS_TYPE, type WorkspaceSecretsArgs } from "./workspace-secrets.ts";
export { Grant, TenancyProvider, WorkspaceBoundary, WorkspaceCredentials, type GrantArgs, type PgConnectionInput } from "./resources.ts";
export { workspaceNames, CONTROL_SCHEMA, type WorkspaceNames } from "./naming.ts";
