// What the real components register, as the pack receives it: an Organization built under
// Pulumi mocks (test/components/mock-harness.ts records each RegisterResource request and each
// component's registered outputs), turned into the specs the pack harness and the policy-pack
// bench feed the policies. Nothing here restates what a component registers, so neither can
// drift from components/: a change there shows here (and in fixtures.test.ts, which compares
// the hand-written fixtures with this).
import type { TenancyModel } from "../../../config/model.ts";
import { findSecretPaths } from "../../../policies/view.ts";
import { Grant } from "../../../components/resources.ts";
import { deployOrganization, plainInputs, reveal, SECRET_CONFIG, settle, startMocks, valueOf, type MockRecorder, type Registration } from "../../components/mock-harness.ts";
import { STACK, type Spec } from "./harness.ts";

/** The secret config a model's integrations name (`ws0SlackToken` -> `credentials:ws0SlackToken`), with the master key. */
export function secretConfigFor(model: TenancyModel): Record<string, string> {
  const config: Record<string, string> = { ...SECRET_CONFIG };
  for (const ws of model.workspaces) {
    for (const i of ws.integrations) {
      const key = i.credentialsSecret.includes(":") ? i.credentialsSecret : `credentials:${i.credentialsSecret}`;
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

export interface ComponentOptions {
  readonly aws?: boolean;
  /**
   * Also a hand-written Grant (components' `Grant`) giving the last workspace's app role USAGE
   * on the first workspace's schema, as a program could write it: the pack must refuse it.
   */
  readonly crossGrant?: boolean;
}

/** Name of the hand-written grant `crossGrant` adds. */
export const CROSS_GRANT = "cross-workspace-grant";

/** The specs of an Organization the real components build from `model` (mocks started by mocksFor). */
export async function componentSpecs(model: TenancyModel, options: ComponentOptions = {}): Promise<Spec[]> {
  const recorder = await mocksFor([model]);
  const mark = recorder.registered.length;
  const deployed = await deployOrganization(recorder, model, options.aws ? { aws: true } : {});
  if (options.crossGrant) {
    // As test/e2e/fixtures/policy-pack/index.ts writes it.
    const [a, b] = [deployed.org.workspaces[deployed.org.workspaces.length - 1]!, deployed.org.workspaces[0]!];
    const grant = new Grant(CROSS_GRANT, { action: "grant", role: a.appRole, on: { kind: "schema", schema: b.schema }, privileges: ["USAGE"] }, { provider: deployed.org.provider });
    await valueOf(grant.urn);
    await settle();
  }
  return specsOf(recorder.registered.slice(mark), recorder.outputs);
}
