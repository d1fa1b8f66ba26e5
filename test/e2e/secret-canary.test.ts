// Issue 8, item 4: a canary for every kind of secret, searched for everywhere the toolkit and
// the engine write: the exported state and the state files, the engine's debug log of an apply
// (`--debug --logtostderr -v=9`), `preview --diff` and `--json`, the outputs of the `tenancy`
// commands, error outputs (wrong passphrase, server down, missing secret), and every process's
// command line sampled during an apply. Zero hits; the count of places searched is printed.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsOf } from "../../cli/credentials.ts";
import { runPulumiOutput, setSecretConfig } from "../../cli/engine.ts";
import { ensureLocalPostgres, stopLocalPostgres } from "../../cli/local/postgres.ts";
import { createHarness, root, type Harness } from "./harness.ts";
import { watchProcesses } from "./proc-watch.ts";

const run = promisify(execFile);
const base = readFileSync(join(root, "stacks/dev/tenancy.yaml"), "utf8");
const tag = `${process.pid}${Date.now().toString(36)}`;
/** Integration credentials: the first values, then the rotated ones (the first must vanish too). */
const FIRST = { emeaSlackToken: `canary-slack-first-${tag}`, usDriveOauth: `canary-drive-first-${tag}`, usHubspotOauth: `canary-hubspot-first-${tag}` };
const ROTATED = `canary-slack-rotated-${tag}`;

/** Every file under a folder, as text. */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return (await Promise.all(files.map((f) => readFile(f, "latin1").catch(() => "")))).join("\n");
}

describe("secret canaries (real engine, real PostgreSQL)", () => {
  let h: Harness;
  const places = new Map<string, string>();
  const canaries = new Map<string, string>();
  /** A pulumi command's whole output; a failure here is a broken test setup, said plainly. */
  const pulumi = (args: string[]) => runPulumiOutput(h.stack, args).then((r) => `${r.stdout}\n${r.stderr}`, (e: { commandResult?: { stderr?: string } }) => {
    throw new Error(`pulumi ${args.join(" ")} failed: ${e.commandResult?.stderr ?? String(e)}`);
  });
  const failed = (promise: Promise<unknown>) => promise.then(() => "", (e: unknown) => `${(e as Error).message}\n${(e as { stdout?: string }).stdout ?? ""}\n${(e as { stderr?: string }).stderr ?? ""}`);
  const tenancy = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [join(root, "dist/cli/tenancy.js"), ...args], { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
      .then((r) => `${r.stdout}${r.stderr}`, (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ""}${e.stderr ?? ""}`);

  beforeAll(async () => {
    h = await createHarness("canary", base);
    await setSecretConfig(h.stack, Object.fromEntries(Object.entries(FIRST).map(([k, v]) => [`credentials:${k}`, v])));
    const dir = dirname(h.declaration);
    const superuser = JSON.parse(await readFile(join(dir, ".tenancy", "postgres", "superuser.json"), "utf8")) as { password: string };
    canaries.set("admin password", h.server.password);
    canaries.set("superuser password", superuser.password);
    canaries.set("master key", (await h.stack.getConfig("tenancy:credentialsMasterKey")).value);
    for (const [k, v] of Object.entries(FIRST)) canaries.set(`integration credential ${k}`, v);
    canaries.set("integration credential after rotation", ROTATED);

    // One apply with the engine's most verbose logs, every process's command line watched.
    const watcher = watchProcesses();
    places.set("engine debug log of the first up (stdout and stderr)", await pulumi(["up", "--yes", "--skip-preview", "--debug", "--logtostderr", "-v=9"]));
    // The derived secrets, as the SaaS gets them (`tenancy credentials --show-secrets`).
    for (const [slug, w] of Object.entries((await credentialsOf(h.stack, { showSecrets: true })).workspaces)) {
      canaries.set(`app password ${slug}`, w.appPassword);
      canaries.set(`data key ${slug}`, w.credentialsKey);
    }
    // Rotation: the old value must not survive anywhere either.
    await setSecretConfig(h.stack, { "credentials:emeaSlackToken": ROTATED });
    const verbose = await h.stack.up({ debug: true, logToStdErr: true, logVerbosity: 9 } as never);
    places.set("engine debug log of the rotating up", `${verbose.stdout}\n${verbose.stderr}`);
    places.set("process command lines during both applies", [...(await watcher.stop()).lines].join("\n"));

    // The file backend (the harness's folder also holds the server and its mode-600 password files).
    places.set("state files", await allText(join(dir, ".pulumi")));
    places.set("pulumi stack export (no --show-secrets)", await pulumi(["stack", "export"]));
    places.set("preview --diff", (await h.stack.preview({ diff: true })).stdout);
    places.set("preview --json", await pulumi(["preview", "--json"]));
    places.set("refresh --preview-only --diff", await pulumi(["refresh", "--preview-only", "--diff"]));
    places.set("tenancy validate", await tenancy(["validate", h.declaration, "--format", "json"]));
    places.set("tenancy credentials (without --show-secrets)", await tenancy(["credentials", "--stack", h.stack.name, "--format", "env"],
      { PULUMI_BACKEND_URL: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "tenancy-demo-passphrase-not-secret" }));
    places.set("tenancy audit --stack (json)", await tenancy(["audit", "--declaration", h.declaration, "--stack", h.stack.name, "--format", "json"],
      { PULUMI_BACKEND_URL: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "tenancy-demo-passphrase-not-secret" }));
    places.set("tenancy import", await tenancy(["import", "--database-url", `postgres://${h.server.user}@${h.server.host}:${h.server.port}/${h.server.database}`, "--organization", "acme"],
      { PGPASSWORD: h.server.password }));

    // Error outputs.
    const ws = h.stack.workspace as LocalWorkspace;
    const wrong = await LocalWorkspace.selectStack({ stackName: h.stack.name, workDir: root }, { pulumiCommand: ws.pulumiCommand, envVars: { ...ws.envVars, PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" } });
    places.set("error: wrong passphrase", await failed(wrong.up()));
    await h.stack.removeConfig("credentials:usDriveOauth");
    places.set("error: missing secret", await failed(h.stack.preview()));
    await setSecretConfig(h.stack, { "credentials:usDriveOauth": FIRST.usDriveOauth });
    await stopLocalPostgres({ root: dir, port: h.server.port });
    // A refresh reads every resource: it must reach the server (an unchanged up would not).
    places.set("error: server down", await failed(h.stack.refresh()));
    await ensureLocalPostgres({ root: dir, port: h.server.port });
  });
  afterAll(async () => { await h?.dispose(); });

  it("finds no canary anywhere, the engine's -v=9 property trace included", () => {
    expect(canaries.size).toBeGreaterThanOrEqual(13);
    const dump = process.env.TENANCY_CANARY_DUMP;
    if (dump) for (const [i, [where, text]] of [...places].entries()) writeFileSync(join(dump, `${i}.txt`), `${where}\n${text}`);
    for (const [where, text] of places) expect(text.length, `${where} is empty: nothing was searched there`).toBeGreaterThan(0);
    // The trace was searched at its most verbose: every property the engine marshals is in it.
    const trace = [...places].filter(([where]) => where.startsWith("engine debug log")).map(([, text]) => text).join("\n");
    const dumps = trace.split("\n").filter((line) => /(Unm|M)arshaling property for RPC\[/.test(line)).length;
    expect(dumps).toBeGreaterThan(500);
    const hits: string[] = [];
    for (const [where, text] of places) {
      for (const [what, value] of canaries) {
        expect(value.length, what).toBeGreaterThanOrEqual(16);
        const n = text.split(value).length - 1;
        if (n > 0) hits.push(`${what} in ${where} (${n}x)`);
      }
    }
    const bytes = [...places.values()].reduce((n, t) => n + t.length, 0);
    console.info(`secret canaries: ${hits.length} hits for ${canaries.size} canaries over ${places.size} places searched (${(bytes / 1e6).toFixed(1)} MB, ${dumps} engine property dumps)`);
    expect(hits).toEqual([]);
  });

  it("gives the SaaS its credentials only with --show-secrets", () => {
    const shown = places.get("tenancy credentials (without --show-secrets)")!;
    expect(shown).toMatch(/^TENANCY_EMEA_SUPPORT_APP_ROLE=acme__emea_support__app$/m);
    expect(shown).toMatch(/^TENANCY_EMEA_SUPPORT_APP_PASSWORD=\[secret\]$/m);
  });
});
