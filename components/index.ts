// What users import to build tenancies from their own Pulumi programs.
export { Organization, ORGANIZATION_TYPE, type OrganizationArgs } from "./organization.ts";
export { Workspace, WORKSPACE_TYPE, type WorkspaceArgs } from "./workspace.ts";
export { WorkspaceDatabase, WORKSPACE_DATABASE_TYPE, type WorkspaceDatabaseArgs } from "./workspace-database.ts";
export { WorkspaceSecrets, WORKSPACE_SECRETS_TYPE, type WorkspaceSecretsArgs } from "./workspace-secrets.ts";
export { workspaceNames, CONTROL_SCHEMA, type WorkspaceNames } from "./naming.ts";
export type { PgConnectionInput } from "./providers/connection.ts";
