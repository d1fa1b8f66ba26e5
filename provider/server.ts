// The gRPC face of the tenancy provider plugin. Our own small server over the SDK's generated
// protos rather than `@pulumi/pulumi/provider`'s `main`, because that server (3.246.0):
// - drops `detailedDiff` from Diff (per-person and per-grant diffs would never reach a preview),
// - fails Read on `pulumi import` (it calls `getProperties().toJavaScript()` on an absent struct),
// - returns plaintext outputs for secret inputs it accepted.
// Here inputs are unwrapped from the engine's secret sigils once, kinds work on plain values, and
// the outputs a kind names as secret are wrapped again before they leave the process.
import { createRequire } from "node:module";
import type { PgConnection } from "./postgres/client.ts";

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any -- generated protobuf classes carry no useful types */
const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const provrpc: any = require("@pulumi/pulumi/proto/provider_grpc_pb.js");
const provproto: any = require("@pulumi/pulumi/proto/provider_pb.js");
const plugproto: any = require("@pulumi/pulumi/proto/plugin_pb.js");
const emptyproto: any = require("google-protobuf/google/protobuf/empty_pb.js");
const engineproto: any = require("@pulumi/pulumi/proto/engine_pb.js");
const enginerpc: any = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
const structproto: any = require("google-protobuf/google/protobuf/struct_pb.js");

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
/** What the engine sends for a value a preview does not know yet. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type DiffKind = "add" | "delete" | "update" | "add-replace" | "delete-replace" | "update-replace";
export interface Diff {
  /** Top-level properties whose change replaces the resource. */
  readonly replaces: readonly string[];
  /** Keyed by property path (`members["ana@acme.test"]`, `grants["schema-app"]`). Empty: no change. */
  readonly detailedDiff: Readonly<Record<string, DiffKind>>;
  readonly deleteBeforeReplace?: boolean;
}

export interface Failure { readonly property: string; readonly reason: string }

/** What the provider's configuration holds besides the connection. */
export interface Keys {
  /**
   * The stack's master key (provider config `credentialsMasterKey`, from the secret stack config
   * value of the same name). App passwords and data keys are derived from it here, in the plugin,
   * and never leave it: no resource input, output or response carries one, so the engine's
   * most verbose logs cannot print one. Undefined when the configuration did not give it.
   */
  readonly masterKey: string | undefined;
}

export interface Context extends Keys {
  /** The admin connection from the provider's configuration. */
  readonly connection: PgConnection;
  /**
   * A warning the engine shows with the resource (its Log service), for what a run went past
   * without failing. Plain text: the caller escapes catalog names. Absent outside the engine.
   */
  readonly warn?: (message: string) => Promise<void>;
}

/** One custom resource kind. Inputs arrive unwrapped (secrets as plain values, unknowns as UNKNOWN). */
export interface ResourceKind<I = any, S = any> {
  readonly token: string;
  /** Top-level output properties kept secret by the engine. */
  readonly secretOutputs?: readonly string[];
  check(news: I): readonly Failure[];
  /**
   * The inputs the engine keeps (in state, and sends back as "olds" on every later run), made
   * from the checked ones. For inputs that must not outlive their run in clear: the engine masks
   * the stack's current config secrets in its logs, not a value that has since been rotated out.
   * Mark what stays secret with `secret()`.
   */
  prepare?(news: I, keys: Keys): Promise<Record<string, unknown>>;
  /**
   * `keys` has no master key when the configuration is not known yet (a preview): say "update".
   * `keys.connection` is there when the provider is configured: only read-only checks may use it.
   */
  diff(olds: S, news: I, keys?: Keys & { readonly connection?: PgConnection }): Diff | Promise<Diff>;
  create(inputs: I, ctx: Context): Promise<{ id: string; outs: S }>;
  /** The live state, or undefined when the object is gone. `state` is absent on import. */
  read(id: string, state: S | undefined, ctx: Context): Promise<{ outs: S; inputs: I } | undefined>;
  update(id: string, olds: S, news: I, ctx: Context): Promise<S>;
  delete(id: string, state: S, ctx: Context): Promise<void>;
}

/** A value the engine keeps secret (its sigil), for what a kind's prepare or outputs return. */
export function secret(value: unknown): unknown {
  return { [SECRET_SIG]: SECRET_VALUE, value };
}

/** Removes secret sigils (recursively). */
export function unwrap(value: any): any {
  if (Array.isArray(value)) return value.map(unwrap);
  if (value && typeof value === "object") {
    if (value[SECRET_SIG] === SECRET_VALUE) return unwrap(value.value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

/** Whether a (still wrapped) value holds an unknown anywhere. */
export function hasUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(hasUnknown);
  if (value && typeof value === "object") return Object.values(value).some(hasUnknown);
  return false;
}

function wrapOutputs(kind: ResourceKind, outs: Record<string, unknown>): Record<string, unknown> {
  const secret = new Set(kind.secretOutputs ?? []);
  return Object.fromEntries(Object.entries(outs).filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, secret.has(k) ? { [SECRET_SIG]: SECRET_VALUE, value: v } : v]));
}

const KIND_CODE: Record<DiffKind, number> = { "add": 0, "add-replace": 1, "delete": 2, "delete-replace": 3, "update": 4, "update-replace": 5 };

const js = (s: any): any => (s ? s.toJavaScript() : undefined);
const struct = (v: unknown) => structproto.Struct.fromJavaScript(v ?? {});
/** The token of a URN: `urn:pulumi:stack::project::parent$type::name`. */
const typeOf = (urn: string) => urn.split("::")[2]!.split("$").pop()!;

/** One line, never a stack: messages of ours name the object and say what to do. */
function failure(error: unknown): { code: number; details: string } {
  const message = error instanceof Error ? error.message : String(error);
  return { code: grpc.status.UNKNOWN, details: message };
}

/** `engine`: the engine's address (the plugin's last argument), for warnings through its Log service. */
export function createServer(kinds: readonly ResourceKind[], version: string, engine?: string): { serve(): Promise<number> } {
  const byToken = new Map(kinds.map((k) => [k.token, k]));
  let connection: PgConnection | undefined;
  let masterKey: string | undefined;
  const kindOf = (urn: string) => {
    const kind = byToken.get(typeOf(urn));
    if (!kind) throw new Error(`the tenancy provider has no resource type ${typeOf(urn)}`);
    return kind;
  };
  let log: any;
  const warnFor = (urn: string) => async (message: string) => {
    if (!engine) { process.stderr.write(`warning: ${message}\n`); return; }
    log ??= new enginerpc.EngineClient(engine, grpc.credentials.createInsecure());
    const req = new engineproto.LogRequest();
    req.setSeverity(engineproto.LogSeverity.WARNING);
    req.setMessage(message);
    req.setUrn(urn);
    // A warning that cannot be delivered must not fail the resource it is about.
    await new Promise<void>((resolve) => log.log(req, { deadline: Date.now() + 5_000 }, () => resolve()));
  };
  const ctx = (urn?: string): Context => {
    if (!connection) throw new Error("the tenancy provider is not configured: give it host, port, user, password and database");
    return { connection, masterKey, ...(urn ? { warn: warnFor(urn) } : {}) };
  };
  // Every handler: unary, a promise turned into the callback, errors as one line.
  const handle = (fn: (req: any) => Promise<any> | any) => (call: any, callback: any) => {
    Promise.resolve().then(() => fn(call.request)).then((resp) => callback(null, resp), (error) => callback(failure(error), null));
  };

  const service = {
    getPluginInfo: handle(() => { const r = new plugproto.PluginInfo(); r.setVersion(version); return r; }),
    getSchema: handle(() => { const r = new provproto.GetSchemaResponse(); r.setSchema("{}"); return r; }),
    attach: handle(() => new emptyproto.Empty()),
    cancel: handle(() => new emptyproto.Empty()),
    checkConfig: handle((req) => { const r = new provproto.CheckResponse(); r.setInputs(req.getNews()); return r; }),
    diffConfig: handle((req) => {
      // A changed admin user or password is an update; the provider is never replaced, since that
      // would replace (drop) every workspace it manages.
      const r = new provproto.DiffResponse();
      const [a, b] = [unwrap(js(req.getOlds())), unwrap(js(req.getNews()))];
      const same = JSON.stringify(a, Object.keys(a ?? {}).sort()) === JSON.stringify(b, Object.keys(b ?? {}).sort());
      r.setChanges(same ? provproto.DiffResponse.DiffChanges.DIFF_NONE : provproto.DiffResponse.DiffChanges.DIFF_SOME);
      return r;
    }),
    configure: handle((req) => {
      const args = unwrap(js(req.getArgs())) ?? {};
      const vars = req.getVariablesMap();
      const get = (k: string) => args[k] ?? vars.get(`tenancy:config:${k}`) ?? vars.get(`tenancy:${k}`);
      if (!hasUnknown(args) && get("host") !== undefined) {
        connection = { host: String(get("host")), port: Number(get("port") ?? 5432), user: String(get("user")), password: String(get("password") ?? ""), database: String(get("database")) };
        const key = get("credentialsMasterKey");
        masterKey = typeof key === "string" && key.length > 0 ? key : undefined;
      }
      const r = new provproto.ConfigureResponse();
      r.setAcceptsecrets(true);
      r.setSupportspreview(false);
      r.setAcceptresources(false);
      r.setAcceptoutputs(false);
      return r;
    }),
    check: handle(async (req) => {
      const kind = kindOf(req.getUrn());
      const news = js(req.getNews());
      const r = new provproto.CheckResponse();
      const failures = kind.check(unwrap(news));
      // The inputs go back as sent, secret markings included (the engine stores them), unless the
      // kind seals them first (prepare): then the state never holds what was sent.
      r.setInputs(kind.prepare && failures.length === 0 ? struct(await kind.prepare(unwrap(news), { masterKey })) : req.getNews());
      r.setFailuresList(failures.map((f) => { const x = new provproto.CheckFailure(); x.setProperty(f.property); x.setReason(f.reason); return x; }));
      return r;
    }),
    diff: handle(async (req) => {
      const kind = kindOf(req.getUrn());
      // With the connection when configured: a kind may re-check the live server (read only).
      const d = await kind.diff(unwrap(js(req.getOlds())), unwrap(js(req.getNews())), { masterKey, connection });
      const r = new provproto.DiffResponse();
      const entries = Object.entries(d.detailedDiff);
      r.setChanges(entries.length > 0 ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
      r.setReplacesList([...d.replaces]);
      r.setDiffsList([...new Set(entries.map(([path]) => path.split(/[.[]/)[0]!))]);
      r.setDeletebeforereplace(Boolean(d.deleteBeforeReplace));
      r.setHasdetaileddiff(true);
      const map = r.getDetaileddiffMap();
      for (const [path, kindName] of entries) {
        const p = new provproto.PropertyDiff();
        p.setKind(KIND_CODE[kindName]);
        p.setInputdiff(true);
        map.set(path, p);
      }
      return r;
    }),
    create: handle(async (req) => {
      const kind = kindOf(req.getUrn());
      const { id, outs } = await kind.create(unwrap(js(req.getProperties())), ctx(req.getUrn()));
      const r = new provproto.CreateResponse();
      r.setId(id);
      r.setProperties(struct(wrapOutputs(kind, outs)));
      return r;
    }),
    read: handle(async (req) => {
      const kind = kindOf(req.getUrn());
      const state = req.getProperties() ? unwrap(js(req.getProperties())) : undefined;
      const found = await kind.read(req.getId(), state && Object.keys(state).length > 0 ? state : undefined, ctx());
      const r = new provproto.ReadResponse();
      if (!found) { r.setId(""); return r; }
      r.setId(req.getId());
      r.setProperties(struct(wrapOutputs(kind, found.outs)));
      // Secret inputs are not echoed back on import: what the program declares replaces them.
      r.setInputs(struct(found.inputs));
      return r;
    }),
    update: handle(async (req) => {
      const kind = kindOf(req.getUrn());
      const outs = await kind.update(req.getId(), unwrap(js(req.getOlds())), unwrap(js(req.getNews())), ctx(req.getUrn()));
      const r = new provproto.UpdateResponse();
      r.setProperties(struct(wrapOutputs(kind, outs)));
      return r;
    }),
    delete: handle(async (req) => {
      const kind = kindOf(req.getUrn());
      await kind.delete(req.getId(), unwrap(js(req.getProperties())), ctx());
      return new emptyproto.Empty();
    }),
  };
  // Anything else the engine may call answers "not implemented", which it handles.
  const unimplemented = (_call: any, callback: any) => callback({ code: grpc.status.UNIMPLEMENTED, details: "not implemented" }, null);
  const full = Object.fromEntries(Object.keys(provrpc.ResourceProviderService).map((m) => [m, (service as any)[m] ?? unimplemented]));

  return {
    async serve() {
      const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
      server.addService(provrpc.ResourceProviderService, full);
      return new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))));
    },
  };
}
