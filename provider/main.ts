// The tenancy provider plugin: every PostgreSQL and control-plane resource of the toolkit.
// Started by the engine through ./pulumi-resource-tenancy; prints its port, then serves gRPC.
import { boundaryKind } from "./resources/boundary.ts";
import { controlPlaneKind, organizationRecordKind, workspaceRecordKind } from "./resources/control-plane.ts";
import { credentialsKind } from "./resources/credentials.ts";
import { grantKind } from "./resources/grant.ts";
import { createServer, type ResourceKind } from "./server.ts";

export const KINDS: readonly ResourceKind[] = [boundaryKind, credentialsKind, grantKind, controlPlaneKind, organizationRecordKind, workspaceRecordKind];
export const PROVIDER_VERSION = "0.1.0";

const port = await createServer(KINDS, PROVIDER_VERSION).serve();
process.stdout.write(`${port}\n`);
