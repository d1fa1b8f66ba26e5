// Runs the pack's policies without an engine: builds the validation args @pulumi/policy would
// build (props behind its unknown-checking proxy, parents and property dependencies as resource
// objects, secret paths recorded as the pack's deserializer records them) and collects every
// reported violation.
import { unknownCheckingProxy, type PolicyConfigSchema, type PolicyResource, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../../policies/pack.ts";
import { markSecrets, type Path } from "../../../policies/view.ts";

export interface Spec {
  readonly type: string;
  readonly name: string;
  readonly props?: Record<string, unknown>;
  /** Name of the parent spec; none: the stack. */
  readonly parent?: string;
  readonly protect?: boolean;
  /** Input paths sent as secrets. */
  readonly secret?: readonly Path[];
  /** property -> names of the specs it depends on. */
  readonly deps?: Readonly<Record<string, readonly string[]>>;
  /** Names of every spec it depends on (explicit and through inputs), as the engine sends them. */
  readonly dependsOn?: readonly string[];
  /** Name of the provider spec serving it (a custom resource with an explicit provider). */
  readonly provider?: string;
}

export interface Reported {
  readonly policy: string;
  readonly message: string;
  readonly urn: string;
  readonly level: string;
}

export type PackConfig = Record<string, { enforcementLevel?: string; [key: string]: unknown } | undefined>;

export const STACK = "pulumi:pulumi:Stack";

export function urnOf(specs: readonly Spec[], spec: Spec): string {
  const chain: string[] = [];
  for (let s: Spec | undefined = spec; s; s = s.parent ? specs.find((x) => x.name === s!.parent) : undefined) if (s.type !== STACK) chain.unshift(s.type);
  return `urn:pulumi:test::tenancy::${chain.join("$")}::${spec.name}`;
}

function defaults(schema: PolicyConfigSchema | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema?.properties ?? {}).filter(([, p]) => (p as { default?: unknown }).default !== undefined).map(([k, p]) => [k, (p as { default?: unknown }).default]));
}

/** Every violation of every policy over `specs`; `config` as with --policy-pack-config. */
export async function runPack(specs: readonly Spec[], config: PackConfig = {}): Promise<Reported[]> {
  const reported: Reported[] = [];
  const built = new Map<string, PolicyResource & { props: Record<string, unknown> }>();
  const propsOf = (spec: Spec) => {
    const props = structuredClone(spec.props ?? {});
    markSecrets(props, spec.secret ?? []);
    return props;
  };
  for (const spec of specs) {
    const props = propsOf(spec);
    built.set(spec.name, {
      type: spec.type, urn: urnOf(specs, spec), name: spec.name, props: unknownCheckingProxy(props),
      opts: { protect: spec.protect ?? false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], ...(spec.parent ? { parent: urnOf(specs, specs.find((s) => s.name === spec.parent)!) } : {}) },
      dependencies: [], propertyDependencies: {},
      isType: () => false, asType: () => undefined,
    } as unknown as PolicyResource & { props: Record<string, unknown> });
  }
  for (const spec of specs) {
    const r = built.get(spec.name)! as { parent?: PolicyResource; propertyDependencies: Record<string, PolicyResource[]> };
    if (spec.parent) r.parent = built.get(spec.parent)!;
    for (const [prop, names] of Object.entries(spec.deps ?? {})) r.propertyDependencies[prop] = names.map((n) => built.get(n)!);
  }
  for (const policy of policies) {
    const own = config[policy.name] ?? {};
    const level = own.enforcementLevel ?? (config.all as { enforcementLevel?: string } | undefined)?.enforcementLevel ?? policy.enforcementLevel ?? "mandatory";
    if (level === "disabled") continue;
    const { enforcementLevel: _, ...rest } = own;
    const getConfig = (() => ({ ...defaults(policy.configSchema), ...rest })) as <T>() => T;
    const report = (urn: string | undefined) => (message: string, at?: string) => reported.push({ policy: policy.name, message, urn: at ?? urn ?? "", level });
    if ("validateStack" in policy) {
      await (policy as StackValidationPolicy).validateStack({ resources: [...built.values()], getConfig, stackTags: new Map(), notApplicable: () => { throw new Error("n/a"); } }, report(undefined));
    }
    if ("validateResource" in policy) {
      const validations = [(policy as ResourceValidationPolicy).validateResource].flat();
      for (const spec of specs) {
        const r = built.get(spec.name)!;
        // Each analyze call deserializes afresh; components arrive with no inputs at all.
        const props = /^tenancy:index:|^pulumi:pulumi:Stack$/.test(spec.type) ? {} : propsOf(spec);
        for (const validate of validations) {
          await validate!({ type: r.type, urn: r.urn, name: r.name, props: unknownCheckingProxy(props), opts: r.opts, stackTags: new Map(), getConfig, isType: () => false, asType: () => undefined, notApplicable: () => { throw new Error("n/a"); } } as never, report(r.urn));
        }
      }
    }
  }
  return reported;
}

/** "policy urn-name" lines, sorted: the compact form tests compare. */
export function summary(reported: readonly Reported[]): string[] {
  return reported.map((r) => `${r.policy} ${r.urn.split("::").pop()}`).sort();
}
