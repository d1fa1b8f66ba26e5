// The secrets the provider derives for a workspace, in the plugin process only: the app role's
// password and the credentials data key, both HKDF-SHA256 of the stack's master key
// (components/credentials-crypto.ts). Resources carry only a generation ("1", bump to rotate),
// so no request, response or state the engine handles (and may log at -v=9) holds either.
import { deriveAppPassword, deriveWorkspaceKey } from "../components/credentials-crypto.ts";
import type { Keys } from "./server.ts";

/** What names one workspace's derived secrets. */
export interface KeyScope {
  readonly organization: string;
  readonly workspace: string;
  readonly generation: string;
}

export const GENERATION = /^[a-z0-9][a-z0-9-]{0,31}$/;

function master(keys: Keys, what: string): string {
  if (keys.masterKey === undefined) {
    throw new Error(`the tenancy provider has no credentialsMasterKey in its configuration: it derives ${what} from it (set the secret stack config tenancy:credentialsMasterKey)`);
  }
  return keys.masterKey;
}

export function appPasswordOf(keys: Keys, s: KeyScope): Promise<string> {
  return deriveAppPassword(master(keys, `the app password of workspace "${s.workspace}"`), s.organization, s.workspace, s.generation);
}

export function dataKeyOf(keys: Keys, s: KeyScope): Promise<string> {
  return deriveWorkspaceKey(master(keys, `the data key of workspace "${s.workspace}"`), s.organization, s.workspace, s.generation);
}
