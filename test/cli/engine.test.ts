// The public demo passphrase is for the demo's own stacks: a real stack without
// PULUMI_CONFIG_PASSPHRASE (or another secrets provider) is refused before the engine starts,
// in one line naming the stack and the variable (issue #15 item 5).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PASSPHRASE, engineFlags, openStack, stackPassphrase } from "../../cli/engine.ts";
import { Exit, ExitError } from "../../cli/errors.ts";
import { main } from "../../cli/main.ts";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tenancy-engine-"));
  writeFileSync(join(root, "Pulumi.yaml"), "name: tenancy\nruntime: nodejs\nstackConfigDir: stacks\n");
  mkdirSync(join(root, "stacks"));
  mkdirSync(join(root, ".tenancy"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const refusal = (stack: string) =>
  `stack "${stack}" has no passphrase for its secrets: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE, or give the stack a secrets provider); the public demo passphrase is only for the demo's own stacks`;

async function refused(run: Promise<unknown>): Promise<ExitError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExitError);
  return error as ExitError;
}

describe("engineFlags", () => {
  it("turns the engine's parallel diffs on, unless the environment says otherwise", () => {
    expect(engineFlags({})).toEqual({ PULUMI_PARALLEL_DIFF: "true" });
    expect(engineFlags({ PULUMI_PARALLEL_DIFF: "false" })).toEqual({ PULUMI_PARALLEL_DIFF: "false" });
  });
});

describe("stackPassphrase", () => {
  it("refuses a stack that is not the demo's when no passphrase is set: exit 2, one line naming the stack and the variable", async () => {
    const error = await refused(stackPassphrase({ root, stack: "prod" }, {}));
    expect(error.exitCode).toBe(Exit.Usage);
    expect(error.message).toBe(refusal("prod"));
  });

  it("uses the environment's passphrase for any stack, an empty one included", async () => {
    expect(await stackPassphrase({ root, stack: "prod" }, { PULUMI_CONFIG_PASSPHRASE: "s3cret" })).toBe("s3cret");
    expect(await stackPassphrase({ root, stack: "prod", demo: true }, { PULUMI_CONFIG_PASSPHRASE: "" })).toBe("");
  });

  it("leaves a passphrase file or the stack's own secrets provider to the engine", async () => {
    expect(await stackPassphrase({ root, stack: "prod" }, { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/p" })).toBeUndefined();
    writeFileSync(join(root, "stacks", "Pulumi.kms.yaml"), "secretsprovider: awskms://alias/tenancy?region=eu-west-1\nconfig: {}\n");
    expect(await stackPassphrase({ root, stack: "kms" }, {})).toBeUndefined();
    expect(await stackPassphrase({ root, stack: "acme/tenancy/kms" }, {})).toBeUndefined();
    // A passphrase stack's file (encryptionsalt, no provider) needs the passphrase.
    writeFileSync(join(root, "stacks", "Pulumi.salted.yaml"), "encryptionsalt: v1:abc\nconfig: {}\n");
    expect((await refused(stackPassphrase({ root, stack: "salted" }, {}))).message).toBe(refusal("salted"));
  });

  it("gives the demo passphrase to a stack opened as a demo, and to one the demo created in the local backend only", async () => {
    expect(await stackPassphrase({ root, stack: "e2e-x", backendUrl: "file:///tmp/x", demo: true }, {})).toBe(DEMO_PASSPHRASE);
    writeFileSync(join(root, ".tenancy", "demo-stacks.json"), '["dev"]\n');
    expect(await stackPassphrase({ root, stack: "dev" }, {})).toBe(DEMO_PASSPHRASE);
    // The same name in another backend is someone's real stack.
    expect((await refused(stackPassphrase({ root, stack: "dev", backendUrl: "s3://bucket" }, {}))).message).toBe(refusal("dev"));
    expect((await refused(stackPassphrase({ root, stack: "agency" }, {}))).message).toBe(refusal("agency"));
  });

  it("shows a stack name's control characters instead of printing them", async () => {
    expect((await refused(stackPassphrase({ root, stack: "p\u001b[2K\rx" }, {}))).message).toContain('stack "p\\u{1B}[2K\\u{0D}x"');
  });
});

describe("commands on a real stack without a passphrase", () => {
  const saved = { passphrase: process.env.PULUMI_CONFIG_PASSPHRASE, file: process.env.PULUMI_CONFIG_PASSPHRASE_FILE };
  afterEach(() => {
    for (const [key, value] of [["PULUMI_CONFIG_PASSPHRASE", saved.passphrase], ["PULUMI_CONFIG_PASSPHRASE_FILE", saved.file]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("openStack refuses before the engine starts or any stack is created", async () => {
    delete process.env.PULUMI_CONFIG_PASSPHRASE;
    delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
    const error = await refused(openStack({ root, stack: "prod", backendUrl: `file://${join(root, "backend")}` }));
    expect(error.message).toBe(refusal("prod"));
  });

  it("tenancy credentials and tenancy audit --stack exit 2 with that one line", async () => {
    delete process.env.PULUMI_CONFIG_PASSPHRASE;
    delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
    for (const argv of [["credentials", "--stack", "prod"], ["audit", "--stack", "prod"]]) {
      let stderr = "";
      const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
      const code = await main(argv, { cwd: root, stdout: sink(() => {}), stderr: sink((s) => (stderr += s)) });
      expect({ code, stderr }).toEqual({ code: Exit.Usage, stderr: `tenancy: ${refusal("prod")}\n` });
    }
  });
});
