// A stack whose config is larger than one environment string may be (128 KiB on Linux,
// MAX_ARG_STRLEN): the dev declaration with three 50,000-character credentials, about 150 KB of
// config. The engine used to give the program the whole decrypted config in PULUMI_CONFIG, and
// the stack could not start at all ("fork/exec node: argument list too long"). Now the language
// host (scripts/toolchain/langhost) passes it over a pipe, credentials live in `credentials:`
// (not the provider's namespace, which the engine puts in the provider's environment), and the
// provider's launcher drops PULUMI_CONFIG. Checked on the real engine: up and a no-change preview
// succeed, every sealed row opens to its credential, and no process's environment (sampled
// through the apply: engine, language host, program, provider, their esbuild children) holds one.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsOf } from "../../cli/credentials.ts";
import { setSecretConfig } from "../../cli/engine.ts";
import { credentialAad, openCredential } from "../../components/credentials-crypto.ts";
import { createHarness, root, type Harness } from "./harness.ts";
import { watchProcesses } from "./proc-watch.ts";

const base = readFileSync(join(root, "stacks/dev/tenancy.yaml"), "utf8");
const MARK = `large-config-canary-${process.pid}-`;
/** 50,000 characters each: together past 128 KiB, and each one's start easy to find. */
const credential = (name: string) => `${MARK}${name}-${randomBytes(37_500).toString("base64")}`.slice(0, 50_000);
const CREDENTIALS = { emeaSlackToken: credential("slack"), usHubspotOauth: credential("hubspot"), usDriveOauth: credential("drive") };
const SLUGS: Record<string, [string, keyof typeof CREDENTIALS][]> = {
  "emea-support": [["slack", "emeaSlackToken"]],
  "us-sales": [["hubspot", "usHubspotOauth"], ["drive", "usDriveOauth"]],
};

describe("a stack config past 128 KiB (real engine, real PostgreSQL)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness("large-config", base);
    await setSecretConfig(h.stack, Object.fromEntries(Object.entries(CREDENTIALS).map(([k, v]) => [`credentials:${k}`, v])));
    const config = await h.stack.getAllConfig();
    const size = JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.value]))).length;
    console.log(`stack config: ${size} bytes decrypted`);
    expect(size).toBeGreaterThan(128 * 1024);
  });

  afterAll(async () => {
    await h?.dispose();
  });

  it("applies, keeps every credential out of every process's environment, and seals each one whole", async () => {
    const watcher = watchProcesses({ environMark: MARK, pauseMs: 20 });
    const result = await h.stack.up().finally(() => watcher.stop());
    const seen = await watcher.stop();
    const commands = [...seen.lines];
    expect(result.summary.result).toBe("succeeded");
    console.log(`environments sampled ${seen.samples} times, ${commands.length} command lines`);
    // The sampling saw the processes that matter, so an empty list of hits means something.
    expect(commands.some((c) => c.includes("@pulumi/pulumi/cmd/run"))).toBe(true);
    expect(commands.some((c) => c.includes("provider/main.mjs"))).toBe(true);
    expect([...seen.environHits]).toEqual([]);

    const workspaces = (await credentialsOf(h.stack, { showSecrets: true })).workspaces;
    for (const [workspace, integrations] of Object.entries(SLUGS)) {
      const { schema, credentialsKey } = workspaces[workspace]!;
      const rows = await h.query<{ slug: string; ciphertext: Buffer; nonce: Buffer }>(`SELECT slug, ciphertext, nonce FROM ${schema}.integration_credentials ORDER BY slug`);
      expect(rows.map((r) => r.slug)).toEqual(integrations.map(([slug]) => slug).sort());
      for (const [slug, key] of integrations) {
        const row = rows.find((r) => r.slug === slug)!;
        expect(await openCredential(credentialsKey, row, credentialAad(schema, slug))).toBe(CREDENTIALS[key]);
      }
    }
  });

  it("previews no change afterwards", async () => {
    expect(await h.plannedChanges()).toEqual([]);
  });
});
