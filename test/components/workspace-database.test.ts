import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { workspaceGrants } from "../../components/grants.ts";
import { workspaceNames } from "../../components/naming.ts";
import { WORKSPACE_DATABASE_TYPE, WorkspaceDatabase } from "../../components/workspace-database.ts";

// Under vitest, `import()` in the providers becomes a module-runner call that Pulumi's closure
// serializer refuses (it captures `this`); the serialised provider is not what this tier tests
// (test/e2e/isolation.test.ts runs it for real), so the serializer is stubbed here.
const serializer = createRequire(import.meta.url)("@pulumi/pulumi/runtime/closure/serializeClosure.js") as { serializeFunction: unknown };
serializer.serializeFunction = async () => ({ text: "exports.handler = undefined;", exportName: "handler", containsSecrets: false });

const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecretValue = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_KEY] === SECRET_SIG;
const reveal = (v: unknown): unknown => (isSecretValue(v) ? (v as { value: unknown }).value : v);

interface Registered {
  type: string; name: string; parent: string; protect: boolean;
  object: Record<string, unknown>; secretOutputs: string[]; dependencies: string[];
}
const registered: Registered[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks({
    newResource: (args) => ({
      id: `${args.name}-id`,
      state: args.type.endsWith("RandomPassword") ? { ...args.inputs, result: `generated-${args.name}` } : args.inputs,
    }),
    call: (args) => args.inputs,
  }, "project", "stack", false);
  // The raw requests keep what the mocks' newResource loses: secret markers and options.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    registered.push({
      type: req.getType(), name: req.getName(), parent: req.getParent(), protect: req.getProtect(),
      object: req.getObject()?.toJavaScript() ?? {}, secretOutputs: req.getAdditionalsecretoutputsList(), dependencies: req.getDependenciesList(),
    });
    return original(req, cb);
  };
});

interface RegisterRequest {
  getType(): string; getName(): string; getParent(): string; getProtect(): boolean; getCustom(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined; getAdditionalsecretoutputsList(): string[]; getDependenciesList(): string[];
}

const resolved = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
const names = workspaceNames("acme", "emea-support");
const connection = { host: "db.internal", port: 5432, user: "tenancy_admin", password: pulumi.secret("admin-password"), database: "postgres" };

async function build(name: string, protect = true): Promise<{ db: WorkspaceDatabase; children: Registered[] }> {
  const db = new WorkspaceDatabase(name, { names, connection, database: "app", protect });
  await Promise.all([resolved(db.schema), resolved(db.appRole), resolved(db.readonlyRole), resolved(db.ownerRole), resolved(db.appPassword),
    ...Object.values(db.grants).map((g) => resolved(g.urn))]);
  const urn = await resolved(db.urn);
  return { db, children: registered.filter((r) => r.parent === urn) };
}
const child = (children: Registered[], name: string) => children.find((r) => r.name === name)!;

describe("WorkspaceDatabase", () => {
  it("registers the roles, password, schema and one resource per grant under the component", async () => {
    const { children } = await build("acme-emea");
    expect(registered.find((r) => r.name === "acme-emea")!.type).toBe(WORKSPACE_DATABASE_TYPE);
    const dynamic = (t: string) => `pulumi-nodejs:dynamic/tenancy:${t}`;
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      `${dynamic("PgRole")} acme-emea-owner`, `${dynamic("PgRole")} acme-emea-app`, `${dynamic("PgRole")} acme-emea-readonly`,
      `${dynamic("RandomPassword")} acme-emea-app-password`, `${dynamic("PgSchema")} acme-emea-schema`,
      ...workspaceGrants(names, "app").map((g) => `${dynamic("PgGrant")} acme-emea-${g.id}`),
    ].sort());
  });

  it("creates NOLOGIN owner and readonly roles and a LOGIN app role whose password is a secret", async () => {
    const { db, children } = await build("acme-pw");
    const inputs = (n: string) => { const { __provider, connection: _c, ...rest } = child(children, n).object; return rest; };
    expect(inputs("acme-pw-owner")).toEqual({ name: names.owner, login: false });
    expect(inputs("acme-pw-readonly")).toEqual({ name: names.readonly, login: false, reassignOwnedTo: names.owner });
    const app = inputs("acme-pw-app");
    expect({ ...app, password: reveal(app.password) }).toEqual({ name: names.app, login: true, password: "generated-acme-pw-app-password", reassignOwnedTo: names.owner });
    expect(isSecretValue(app.password)).toBe(true);
    expect(child(children, "acme-pw-app").secretOutputs).toEqual(expect.arrayContaining(["password", "connection"]));
    expect(child(children, "acme-pw-app-password").secretOutputs).toEqual(["result"]);
    expect(await pulumi.isSecret(db.appPassword)).toBe(true);
  });

  it("gives the schema to the owner role and drops it with CASCADE", async () => {
    const { children } = await build("acme-schema");
    const { __provider, connection: _c, ...schema } = child(children, "acme-schema-schema").object;
    expect(schema).toEqual({ name: names.schema, owner: names.owner, cascade: true });
  });

  it("gives every grant resource the role, object and privileges of its descriptor, in the workspace's database", async () => {
    const { children } = await build("acme-grants");
    for (const g of workspaceGrants(names, "app")) {
      const { __provider, connection: _c, ...inputs } = child(children, `acme-grants-${g.id}`).object;
      expect(inputs).toEqual({ action: g.action, role: g.role, on: g.on, privileges: g.privileges });
    }
  });

  it("connects every child to the workspace's database, with the admin connection as a secret", async () => {
    const { children } = await build("acme-conn");
    for (const r of children.filter((c) => !c.type.endsWith("RandomPassword"))) {
      expect(isSecretValue(r.object.connection)).toBe(true);
      expect(reveal(r.object.connection)).toEqual({ ...connection, password: "admin-password", database: "app" });
    }
  });

  it("defaults to the connection's database, keeping the name (not the password) in clear for policies", async () => {
    const db = new WorkspaceDatabase("acme-default-db", { names, connection, protect: false });
    await resolved(db.grants["connect-app"]!.urn);
    const urn = await resolved(db.urn);
    const connect = registered.find((r) => r.parent === urn && r.name === "acme-default-db-connect-app")!;
    expect(connect.object.on).toEqual({ kind: "database", database: "postgres" });
    expect(await pulumi.isSecret(db.database)).toBe(false);
  });

  it("orders destroy: grants first, then the app and readonly roles, then the schema, then the owner", async () => {
    const { children } = await build("acme-order");
    const urnOf = (n: string) => `urn:pulumi:stack::project::${WORKSPACE_DATABASE_TYPE}$${child(children, n).type}::${n}`;
    const dependsOn = (n: string) => child(children, n).dependencies;
    expect(dependsOn("acme-order-schema")).toEqual([urnOf("acme-order-owner")]);
    expect(dependsOn("acme-order-app")).toEqual(expect.arrayContaining([urnOf("acme-order-schema"), urnOf("acme-order-owner"), urnOf("acme-order-app-password")]));
    expect(dependsOn("acme-order-readonly")).toEqual(expect.arrayContaining([urnOf("acme-order-schema"), urnOf("acme-order-owner")]));
    for (const g of workspaceGrants(names, "app")) {
      expect(dependsOn(`acme-order-${g.id}`)).toEqual(expect.arrayContaining(["owner", "app", "readonly", "schema"].map((n) => urnOf(`acme-order-${n}`))));
    }
  });

  it("protects every child when asked to, and none otherwise", async () => {
    expect((await build("acme-protected", true)).children.every((r) => r.protect)).toBe(true);
    expect((await build("acme-unprotected", false)).children.some((r) => r.protect)).toBe(false);
  });

  it("refuses names PostgreSQL would truncate", () => {
    const long = { ...names, app: `${"x".repeat(64)}` };
    let error: unknown;
    try {
      new WorkspaceDatabase("acme-long", { names: long, connection, protect: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(pulumi.InputPropertyError);
    expect(error).toMatchObject({ propertyPath: "names.app", reason: expect.stringContaining("is 64 bytes; PostgreSQL keeps only 63") });
  });
});
