// Pulumi mocks that keep what the engine would see: each RegisterResource request (parent,
// protect, dependencies, inputs with their secret markers) and each component's registered
// outputs. The mocks' own newResource callback loses all of that but the inputs.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import type { TenancyModel } from "../../config/model.ts";
import { ORGANIZATION_TYPE, Organization, type OrganizationArgs } from "../../components/organization.ts";
import { checkDeclaration } from "../../policies/declaration.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Registration {
  readonly type: string;
  readonly name: string;
  /** Filled in from the monitor's answer; settled once `settle()` returns. */
  urn: string;
  /** The parent's URN; "" for none. */
  readonly parent: string;
  readonly custom: boolean;
  /** The provider reference (`<provider urn>::<provider id>`) a custom resource names; "" for none. */
  readonly provider: string;
  /** As sent; false when unset (the engine's default). */
  readonly protect: boolean;
  /** As serialised for the engine: a secret is `{ [SECRET_KEY]: SECRET_SIG, value }`. */
  readonly inputs: Record<string, unknown>;
  /** URNs of explicit (`dependsOn`) and input dependencies. */
  readonly dependencies: readonly string[];
  /** Input name -> URNs of the resources that input depends on. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly secretOutputs: readonly string[];
}

export interface MockRecorder {
  readonly registered: Registration[];
  /** Component URN -> what it passed to registerOutputs, serialised like inputs. */
  readonly outputs: Map<string, Record<string, unknown>>;
}

export interface MockOptions {
  /** Default "tenancy": a config key without a namespace (`emeaSlackToken`) is read from it. */
  readonly project?: string;
  readonly stack?: string;
  /** Full config keys (`credentials:emeaSlackToken`) -> values; all are set as secrets. */
  readonly secretConfig?: Readonly<Record<string, string>>;
}

const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export const isSecretValue = (v: unknown): boolean =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_KEY] === SECRET_SIG;
export const reveal = (v: unknown): unknown => (isSecretValue(v) ? (v as { value: unknown }).value : v);

/** The value of an Output (resolved; a secret is revealed). */
export const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise<T>((resolve) => o.apply(resolve));

/** Every registration the program started has reached the mocks (internal: what disconnect() waits on). */
export const settle = (): Promise<void> => (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

/** What a provider would answer, enough for the components' outputs (ARNs shaped like AWS's). */
function stateOf(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  const account = "123456789012";
  switch (type) {
    case "aws:kms/key:Key": {
      const id = randomUUID();
      return { id, state: { ...inputs, keyId: id, arn: `arn:aws:kms:eu-west-1:${account}:key/${id}` } };
    }
    case "aws:secretsmanager/secret:Secret": {
      const arn = `arn:aws:secretsmanager:eu-west-1:${account}:secret:${inputs.name}-${randomUUID().slice(0, 6)}`;
      return { id: arn, state: { ...inputs, arn } };
    }
    case "aws:iam/policy:Policy":
      return { id: inputs.name, state: { ...inputs, arn: `arn:aws:iam::${account}:policy${inputs.path}${inputs.name}` } };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

interface RegisterRequest {
  getType(): string; getName(): string; getParent(): string; getProtect(): boolean | undefined; getCustom(): boolean; getProvider(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getAdditionalsecretoutputsList(): string[]; getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}
interface OutputsRequest { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined }
type Callback = (err: unknown, resp?: { getUrn(): string }) => void;
interface Monitor {
  registerResource(req: RegisterRequest, cb: Callback): unknown;
  registerResourceOutputs(req: OutputsRequest, cb: Callback): unknown;
}

function propertyDependencies(req: RegisterRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => { out[key] = deps.getUrnsList(); });
  return out;
}

/** Installs the mocks and the recorder; call once per test file, before building anything. */
export async function startMocks(options: MockOptions = {}): Promise<MockRecorder> {
  const recorder: MockRecorder = { registered: [], outputs: new Map() };
  await pulumi.runtime.setMocks({
    newResource: ({ type, name, inputs }) => stateOf(type, name, inputs),
    call: (args) => args.inputs,
  }, options.project ?? "tenancy", options.stack ?? "test", false);
  const config = options.secretConfig ?? {};
  pulumi.runtime.setAllConfig({ ...config }, Object.keys(config));

  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const registration: Registration = {
      type: req.getType(), name: req.getName(), urn: "", parent: req.getParent(), custom: req.getCustom(), provider: req.getProvider() ?? "",
      protect: req.getProtect() ?? false, inputs: req.getObject()?.toJavaScript() ?? {},
      dependencies: req.getDependenciesList(), secretOutputs: req.getAdditionalsecretoutputsList(),
      propertyDependencies: propertyDependencies(req),
    };
    recorder.registered.push(registration);
    return register(req, (err, resp) => {
      if (resp) registration.urn = resp.getUrn();
      cb(err, resp);
    });
  };
  monitor.registerResourceOutputs = (req, cb) => {
    recorder.outputs.set(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
    return registerOutputs(req, cb);
  };
  return recorder;
}

/** Every registration at or below `root` (a URN), root included. */
export function subtree(registered: readonly Registration[], root: string): Registration[] {
  const inside = new Set([root]);
  const out: Registration[] = [];
  // Parents register before their children, so one pass in order finds every descendant.
  for (const r of registered) {
    if (r.urn === root || inside.has(r.parent)) {
      inside.add(r.urn);
      out.push(r);
    }
  }
  return out;
}

/** A resource's inputs with the secret markers taken off (at any depth). */
export function plainInputs(r: Registration): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    const value = reveal(v);
    if (Array.isArray(value)) return value.map(strip);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, strip(x)]));
    return value;
  };
  return strip(r.inputs) as Record<string, unknown>;
}

// --- The tenancy's own fixtures: the example declarations and what their stacks configure. ---

/** Integration credentials the example stacks name, and the master key; set as secret config. */
export const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
export const SECRET_CONFIG: Readonly<Record<string, string>> = {
  "tenancy:credentialsMasterKey": MASTER_KEY,
  "credentials:emeaSlackToken": "xoxb-emea-plaintext-token",
  "credentials:usHubspotOauth": "hubspot-us-plaintext-token",
  "credentials:usDriveOauth": "drive-us-plaintext-token",
  "credentials:bakeryGmailOauth": "gmail-bakery-plaintext-token",
  "credentials:cyclesShopifyOauth": "shopify-cycles-plaintext-token",
};

export const POSTGRES = { host: "db.internal", port: 5432, user: "tenancy_admin", password: pulumi.secret("admin-password"), database: "tenancy" };

/** The validated model of stacks/<stack>/tenancy.yaml, optionally edited first (as parsed YAML). */
export function declaration(stack: "dev" | "agency", edit?: (doc: any) => void): TenancyModel {
  const file = join(ROOT, "stacks", stack, "tenancy.yaml");
  const doc = YAML.parse(readFileSync(file, "utf8"));
  edit?.(doc);
  const report = checkDeclaration(YAML.stringify(doc), file);
  if (!report.model) throw new Error(`${stack} variant is invalid:\n${report.violations.map((v) => `${v.path} ${v.message}`).join("\n")}`);
  return report.model;
}

export interface Deployed {
  readonly org: Organization;
  /** Everything this deployment registered, in order. */
  readonly regs: readonly Registration[];
  /** The Organization's registration. */
  readonly root: Registration;
  /** Component URN -> registered outputs, as they were right after this deployment. */
  readonly outputs: ReadonlyMap<string, Record<string, unknown>>;
  readonly named: (name: string) => Registration;
  readonly outputsOf: (name: string) => Record<string, unknown>;
}

/**
 * Builds an Organization as index.ts does (master key from secret config) and waits for every
 * registration. `credentialsMasterKey: undefined` in `args` builds one without a key.
 */
export async function deployOrganization(recorder: MockRecorder, model: TenancyModel, args: Partial<OrganizationArgs> = {}): Promise<Deployed> {
  const mark = recorder.registered.length;
  const masterKey = new pulumi.Config("tenancy").getSecret("credentialsMasterKey");
  const org = new Organization(model.organization!.slug, { model, postgres: POSTGRES, credentialsMasterKey: masterKey, ...args } as OrganizationArgs);
  await Promise.all([valueOf(org.urn), ...org.workspaces.map((w) => valueOf(w.urn))]);
  await settle();
  const regs = recorder.registered.slice(mark);
  const root = regs.find((r) => r.type === ORGANIZATION_TYPE)!;
  const named = (name: string) => {
    const found = regs.filter((r) => r.name === name);
    if (found.length !== 1) throw new Error(`${found.length} resources named ${name}`);
    return found[0]!;
  };
  // Another deployment with the same names reuses these URNs: keep this one's outputs apart.
  const outputs = new Map(regs.filter((r) => recorder.outputs.has(r.urn)).map((r) => [r.urn, recorder.outputs.get(r.urn)!]));
  return { org, regs, root, outputs, named, outputsOf: (name) => outputs.get(named(name).urn) ?? {} };
}
