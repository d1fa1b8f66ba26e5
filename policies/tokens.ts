// Type tokens the pack recognises. Spelled out here rather than imported from components/: the
// component modules load @pulumi/aws, which the analyzer process does not need (a test checks
// these equal the components' constants).
export const Token = {
  Organization: "tenancy:index:Organization",
  Workspace: "tenancy:index:Workspace",
  WorkspaceSecrets: "tenancy:index:WorkspaceSecrets",
  OrganizationRecord: "tenancy:control:OrganizationRecord",
  /** A workspace's rows and its member list. */
  WorkspaceRecord: "tenancy:control:WorkspaceRecord",
  /** A workspace's PostgreSQL boundary; its `grants` input holds every grant it makes. */
  WorkspaceBoundary: "tenancy:postgres:WorkspaceBoundary",
  /** A grant written by hand in a program. */
  PgGrant: "tenancy:postgres:Grant",
  /** @pulumi/postgresql, for grants written by hand (no plugin here; checked by unit tests). */
  PostgresGrant: "postgresql:index/grant:Grant",
  PostgresGrantRole: "postgresql:index/grantRole:GrantRole",
  PostgresDefaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
  KmsKey: "aws:kms/key:Key",
  KmsAlias: "aws:kms/alias:Alias",
  Secret: "aws:secretsmanager/secret:Secret",
  SecretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  IamPolicy: "aws:iam/policy:Policy",
  IamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;

export const ORG_TAG = "tenancy:organization";
export const WORKSPACE_TAG = "tenancy:workspace";
