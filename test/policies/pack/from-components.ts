// What the real components register, as the pack receives it: an Organization built under
// Pulumi mocks (test/components/mock-harness.ts records each RegisterResource request and each
// component's registered outputs), turned into the specs the pack harness and the policy-pack
// bench feed the policies. Nothing here restates what a component registers, so neither can
// drift from components/: a change there shows here (and in fixtures.test.ts, which compares
// the hand-written fixtures with this).
import type { TenancyModel } from "../../../config/model.ts";
import { findSecretPaths } from "../../../policies/view.ts";
import { deployOrganization, plainInputs, reveal, SECRET_CONFIG, startMocks, type MockRecorder, type Registration } from "../../components/mock-harness.ts";
import { STACK, type Spec } from "./harness.ts";

/** The secret config a model's integrations name (`ws0SlackToken` -> `tenancy:ws0SlackToken`), with the master key. */
export function secretConfigFor(model: TenancyModel): Record<string, string> {
  const config: Record<string, string> = { ...SECRET_CONFIG };
  for (const ws of model.workspaces) {
    for (const i of ws.integrations) {
      const key = i.credentialsSecret.includes(":") ? i.credentialsSecret : `tenancy:${i.credentialsSecret}`;
      config[key] ??= `xoxb-${ws.slug}-${i.slug}-0123456789-abcdefghijkl`;
    }
  }
  return config;
}

let recorder: Promise<MockRecorder> | undefined;

/**
 * Starts the mocks once per process with the secret config of `models` (config is set once:
 * pass every model this process will build).
 */
export function mocksFor(models: readonly TenancyModel[]): Promise<MockRecorder> {
  recorder ??= startMocks({ secretConfig: Object.assign({}, ...models.map(secretConfigFor)) });
  return recorder;
}

const strip = (value: unknown): unknown => {
  const v = reveal(value);
  if (Array.isArray(v)) return v.map(strip);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
  return v;
};

/** Registrations (one deployment) -> specs, parents, providers and dependencies by name. */
export function specsOf(regs: readonly Registration[], outputs: ReadonlyMap<string, Record<string, unknown>>, stackName = "tenancy-test"): Spec[] {
  const nameOf = new Map(regs.map((r) => [r.urn, r.name]));
  const names = (urns: readonly string[]) => urns.map((u) => nameOf.get(u)).filter((n): n is string => n !== undefined);
  const specs: Spec[] = [{ type: STACK, name: stackName }];
  for (const r of regs) {
    // What the analyzer gets: a custom resource's inputs; a component's registered outputs.
    const raw = r.custom ? r.inputs : outputs.get(r.urn) ?? {};
    const secret = findSecretPaths(raw);
    const deps = Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, urns]) => [k, names(urns)]).filter(([, n]) => n!.length > 0));
    const provider = r.provider ? nameOf.get(r.provider.slice(0, r.provider.lastIndexOf("::"))) : undefined;
    specs.push({
      type: r.type, name: r.name, parent: nameOf.get(r.parent) ?? stackName, protect: r.protect,
      props: (r.custom ? plainInputs(r) : strip(raw)) as Record<string, unknown>,
      ...(secret.length > 0 ? { secret } : {}),
      ...(Object.keys(deps).length > 0 ? { deps } : {}),
      ...(r.dependencies.length > 0 ? { dependsOn: names(r.dependencies) } : {}),
      ...(provider ? { provider } : {}),
    });
  }
  return specs;
}

/** The specs of an Organization the real components build from `model` (mocks started by mocksFor). */
export async function componentSpecs(model: TenancyModel, options: { readonly aws?: boolean } = {}): Promise<Spec[]> {
  const deployed = await deployOrganization(await mocksFor([model]), model, options.aws ? { aws: true } : {});
  return specsOf(deployed.regs, deployed.outputs);
}
