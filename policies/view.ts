// How the pack reads what the engine sends. Pure helpers over @pulumi/policy's resource shapes,
// plus the one place that learns which inputs are secret.
//
// Secretness: the engine sends secret inputs wrapped in Pulumi's secret signature, and
// @pulumi/policy 1.21.0 unwraps them before validateResource/validateStack see `props`
// (deserialize.js, `proxySecrets` false), so a policy cannot tell `pulumi.secret(x)` from `x`.
// `watchSecrets` wraps that deserializer to remember, per props object, the paths that arrived
// secret; the props proxy hands back its target through `__getSpecialProxyTarget`.
import { createRequire } from "node:module";

/** Pulumi's marker for a value not known yet (a preview before its source exists). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const PROXY_TARGET = "__getSpecialProxyTarget";

/** What the pack needs of a resource: the shape of @pulumi/policy's PolicyResource. */
export interface ResourceView {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly opts?: { readonly protect?: boolean; readonly parent?: string };
  readonly parent?: ResourceView;
  readonly propertyDependencies?: Readonly<Record<string, readonly ResourceView[]>>;
}

export type Path = readonly (string | number)[];

/** The plain object behind @pulumi/policy's unknown-checking proxy (reading it never throws). */
export function plain<T>(value: T): T {
  const target = (value as Record<string, unknown> | null | undefined)?.[PROXY_TARGET];
  return (target ?? value) as T;
}

/** The props of a resource as plain data; unknown values stay as the UNKNOWN marker. */
export function propsOf(resource: Pick<ResourceView, "props">): Record<string, unknown> {
  return plain(resource.props) ?? {};
}

/** `value` when it is known (not the preview marker), else undefined. */
export function known<T>(value: T): T | undefined {
  return value === UNKNOWN ? undefined : value;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== UNKNOWN ? value : undefined;
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const secretPaths = new WeakMap<object, readonly Path[] | (() => readonly Path[])>();

/** Records that `props` arrived with secrets at `paths` (the pack's deserializer, and tests). */
export function markSecrets(props: object, paths: readonly Path[] | (() => readonly Path[])): void {
  secretPaths.set(plain(props), paths);
}

/** Paths of `props` that the engine sent as secrets; undefined when nothing was recorded. */
export function secretPathsOf(props: object): readonly Path[] | undefined {
  const target = plain(props);
  const entry = secretPaths.get(target);
  if (typeof entry !== "function") return entry;
  const paths = entry();
  secretPaths.set(target, paths);
  return paths;
}

/** Every path under `raw` (a serialized property map) that carries the secret signature. */
export function findSecretPaths(raw: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (raw === null || typeof raw !== "object") return out;
  if (Array.isArray(raw)) {
    raw.forEach((item, i) => findSecretPaths(item, [...at, i], out));
    return out;
  }
  const object = raw as Record<string, unknown>;
  if (object[SIG_KEY] === SECRET_SIG) {
    out.push(at);
    return out;
  }
  for (const [key, value] of Object.entries(object)) findSecretPaths(value, [...at, key], out);
  return out;
}

let watching = false;

/** Makes the pack remember secret paths of every props object @pulumi/policy deserializes. */
export function watchSecrets(): void {
  if (watching) return;
  watching = true;
  const deserialize = createRequire(import.meta.url)("@pulumi/policy/deserialize") as {
    deserializeProperties: (struct: { toJavaScript(): unknown }, proxySecrets: boolean) => object;
  };
  const original = deserialize.deserializeProperties;
  // @pulumi/policy deserializes every resource of a stack once per stack policy (server.js,
  // makeAnalyzeStackRpcFun): with twenty policies, twenty copies of a 20,000-resource stack.
  // The request's protobuf Struct of a resource is one object for all of them, so its props are
  // built once and shared; policies only read props. A new request brings new Structs, so
  // nothing is shared between a preview and the update after it.
  const shared = new WeakMap<object, object>();
  deserialize.deserializeProperties = (struct, proxySecrets) => {
    const known = proxySecrets ? undefined : shared.get(struct);
    if (known) return known;
    // One conversion of the protobuf Struct serves both the SDK's deserializer and, only when a
    // policy asks, the walk for secret signatures (the Struct's own conversion is the costly part).
    const raw = struct.toJavaScript();
    const props = original({ toJavaScript: () => raw }, proxySecrets);
    markSecrets(props, () => findSecretPaths(raw));
    if (!proxySecrets) shared.set(struct, props);
    return props;
  };
}

/** The resource and its ancestors, nearest first. */
export function* ancestry(resource: ResourceView): Iterable<ResourceView> {
  for (let r: ResourceView | undefined = resource; r; r = r.parent) yield r;
}

/** The nearest ancestor (itself excluded) of one of `types`. */
export function nearest(resource: ResourceView, types: readonly string[]): ResourceView | undefined {
  for (let r = resource.parent; r; r = r.parent) if (types.includes(r.type)) return r;
  return undefined;
}
