// The CrossGuard pack: `pulumi preview --policy-pack policies`, `pulumi up --policy-pack policies`.
// Every policy is mandatory unless the pack's config says otherwise, e.g.
// `{ "workspace-resource-tagged": "advisory", "deployment-modes": { "billingMode": "rollup" } }`
// through `--policy-pack-config`.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./pack.ts";
import { watchSecrets } from "./view.ts";

watchSecrets();
new PolicyPack(PACK_NAME, { enforcementLevel: "mandatory", policies });
