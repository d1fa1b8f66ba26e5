// Real engine, real PostgreSQL: secrets never on a process's command line while a stack is
// configured, engine failures as one redacted line plus a private log, and a hostile
// declaration refused by the stack program before anything exists in the database.
import { readFileSync, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setSecretConfig } from "../../cli/engine.ts";
import { engineStep, type EngineErrorOptions } from "../../cli/engine-errors.ts";
import { ExitError } from "../../cli/errors.ts";
import { stopLocalPostgres } from "../../cli/local/postgres.ts";
import { createHarness, root, type Harness } from "./harness.ts";
import { watchProcesses } from "./proc-watch.ts";

const base = readFileSync(`${root}/stacks/dev/tenancy.yaml`, "utf8");

async function failure(run: () => Promise<unknown>, options: EngineErrorOptions, step = "pulumi up"): Promise<string> {
  const error = await engineStep(step, options, run).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExitError);
  return (error as ExitError).message;
}

async function logOf(message: string, cwd: string): Promise<{ path: string; text: string; mode: number }> {
  const path = join(cwd, /\(full log: ([^)]+)\)$/.exec(message)![1]!);
  return { path, text: await readFile(path, "utf8"), mode: (await stat(path)).mode & 0o777 };
}

describe("secrets and engine failures on the real engine", () => {
  let h: Harness;
  let watched: { samples: number; lines: Set<string> };
  let canaries: string[];
  let logs: EngineErrorOptions;
  const canary = `canary-integration-${process.pid}-Zq8vR2xW`;

  beforeAll(async () => {
    const watcher = watchProcesses();
    try {
      // createHarness configures the stack (admin password) and sets the demo secrets (master key).
      h = await createHarness("secrets", base);
      await setSecretConfig(h.stack, { "tenancy:canaryCredential": canary });
    } finally {
      watched = await watcher.stop();
    }
    const masterKey = (await h.stack.getConfig("tenancy:credentialsMasterKey")).value;
    const superuser = JSON.parse(readFileSync(join(h.server.dataDir, "..", "superuser.json"), "utf8")) as { password: string };
    canaries = [h.server.password, superuser.password, masterKey, canary];
    logs = { secrets: canaries, logDir: join(dirname(h.declaration), "logs"), cwd: dirname(h.declaration) };
  });
  afterAll(async () => { await h?.dispose(); });

  it("sets every secret through stdin: no sampled command line holds one", async () => {
    const all = [...watched.lines];
    // The watcher did see the secret-setting processes, so it was fast enough to catch them.
    expect(all.filter((l) => / config set --secret /.test(l)).length).toBeGreaterThanOrEqual(3);
    for (const secret of canaries) expect(all.filter((l) => l.includes(secret))).toEqual([]);
    console.log(`cmdline watcher: ${watched.samples} samples of /proc, ${all.length} distinct command lines, ${canaries.length} canaries, 0 hits`);
    // and the values did arrive, encrypted
    expect((await h.stack.getConfig("tenancy:canaryCredential")).value).toBe(canary);
    // (Pulumi.yaml's stackConfigDir: the stack's config file is removed with the stack.)
    expect(readFileSync(join(root, "stacks", `Pulumi.${h.stack.name}.yaml`), "utf8")).not.toContain(canary);
  });

  it("refuses a hostile declaration in the program: one line, nothing in the database", async () => {
    try {
      await hostileUp();
    } finally {
      await h.writeDeclaration(base);
    }
  });
  async function hostileUp(): Promise<void> {
    await h.writeDeclaration(base
      .replace("slug: us-sales", "slug: \"us-sales'; DROP SCHEMA tenancy_control CASCADE; --\"")
      .replace("    - { email: ben@acme.test, name: Ben Okafor }", "    - { __proto__: { orgRole: admin }, email: ben@acme.test, name: Ben Okafor }"));
    const message = await failure(() => h.stack.up(), logs);
    console.log(`hostile declaration: ${message}`);
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toMatch(/^pulumi up failed: .*tenancy\.yaml is not valid; nothing was changed: .*tenancy\.yaml:\d+:\d+ (yaml|schema) /);
    expect(message).not.toMatch(/^\s+at /m);
    const schemas = await h.query("SELECT nspname FROM pg_namespace WHERE nspname = 'tenancy_control' OR nspname LIKE 'acme\\_\\_%'");
    const roles = await h.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%'");
    expect([...schemas, ...roles]).toEqual([]);
    // Only the stack itself (which the engine always registers) is in the state.
    expect((await h.resources()).filter((r) => !r.startsWith("pulumi:pulumi:Stack "))).toEqual([]);
  }

  it("reports a wrong passphrase as one redacted line, with the full log private and redacted", async () => {
    const ws = h.stack.workspace as LocalWorkspace;
    const wrong = await LocalWorkspace.selectStack({ stackName: h.stack.name, workDir: root },
      { pulumiCommand: ws.pulumiCommand, envVars: { ...ws.envVars, PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" } });
    for (const [step, run] of [
      ["pulumi up", () => wrong.up()],
      ["configuring the stack", () => setSecretConfig(wrong, { "postgres:password": h.server.password })],
      ["reading config", () => wrong.getAllConfig()],
    ] as [string, () => Promise<unknown>][]) {
      const message = await failure(run, logs, step);
      console.log(`wrong passphrase: ${message}`);
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toMatch(/passphrase/i);
      expect(message).not.toMatch(/^\s+at /m);
      for (const secret of canaries) expect(message).not.toContain(secret);
      const log = await logOf(message, logs.cwd!);
      expect(log.mode).toBe(0o600);
      expect(statSync(logs.logDir).mode & 0o077).toBe(0);
      for (const secret of canaries) expect(log.text).not.toContain(secret);
    }
  });

  it("redacts a secret the engine echoes back (the old set-all path puts it in the error)", async () => {
    const ws = h.stack.workspace as LocalWorkspace;
    const wrong = await LocalWorkspace.selectStack({ stackName: h.stack.name, workDir: root },
      { pulumiCommand: ws.pulumiCommand, envVars: { ...ws.envVars, PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" } });
    const run = () => wrong.setAllConfig({ "postgres:password": { value: h.server.password, secret: true } });
    const raw = await run().then(() => "", (e: Error) => e.message);
    expect(raw.split(h.server.password).length - 1).toBeGreaterThanOrEqual(2); // what was printed before
    const message = await failure(run, logs, "configuring the stack");
    expect(message).not.toContain(h.server.password);
    const log = await logOf(message, logs.cwd!);
    expect(log.text).toContain("[secret]");
    expect(log.text).not.toContain(h.server.password);
  });

  it("reports the server being down as one redacted line", async () => {
    await h.stack.up();
    const schemas = await h.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'acme\\_\\_%'");
    expect(schemas[0]!.n).toBe(3);
    await stopLocalPostgres({ root: join(h.server.dataDir, "..", "..", "..") });
    const message = await failure(() => h.stack.up({ refresh: true }), logs);
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toMatch(/ECONNREFUSED|connect|connection/i);
    expect(message).not.toMatch(/^\s+at /m);
    for (const secret of canaries) expect(message).not.toContain(secret);
    const log = await logOf(message, logs.cwd!);
    for (const secret of canaries) expect(log.text).not.toContain(secret);
    console.log(`server down: ${message}`);
  });
});

export type { Stack };
