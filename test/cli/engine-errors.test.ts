import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineFailure, escapeLines, firstErrorLine, redact } from "../../cli/engine-errors.ts";
import { Exit } from "../../cli/errors.ts";

describe("redact", () => {
  it("hides known secrets, connection-string passwords and password-shaped settings", () => {
    const text = [
      "pulumi config set-all --secret postgres:password=hunter2-XYZ --plaintext postgres:host=127.0.0.1",
      "connecting to postgres://tenancy_admin:s3cr3t@127.0.0.1:5432/tenancy",
      'PGPASSWORD=abc123 psql; {"password": "p@ss"}; passphrase: open-sesame',
      "the key is K3Y-value-known",
    ].join("\n");
    const out = redact(text, ["K3Y-value-known"]);
    for (const secret of ["hunter2-XYZ", "s3cr3t", "abc123", "p@ss", "open-sesame", "K3Y-value-known"]) expect(out).not.toContain(secret);
    expect(out).toContain("postgres:host=127.0.0.1");
    expect(out).toContain("postgres://tenancy_admin:[secret]@127.0.0.1:5432/tenancy");
  });

  it("hides a longer secret whole even when a shorter one is inside it", () => {
    expect(redact("abcdef-123456", ["abcd", "abcdef-123456"])).toBe("[secret]");
  });
});

describe("firstErrorLine", () => {
  it("skips the generic failure lines and joins a heading ending in a colon with its first item", () => {
    const output = [
      "Updating (dev):", "error: update failed", "Diagnostics:", "  pulumi:pulumi:Stack (tenancy-dev):",
      "    error: stacks/dev/tenancy.yaml is not valid; nothing was changed:",
      "    stacks/dev/tenancy.yaml:5:9 schema organization.slug must match",
    ].join("\n");
    expect(firstErrorLine("error: connect ECONNREFUSED 127.0.0.1:5432: Error: connect ECONNREFUSED 127.0.0.1:5432")).toBe("connect ECONNREFUSED 127.0.0.1:5432");
    expect(firstErrorLine(output)).toBe("stacks/dev/tenancy.yaml is not valid; nothing was changed: stacks/dev/tenancy.yaml:5:9 schema organization.slug must match");
  });
});

describe("engineFailure", () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), "tenancy-engine-errors-")); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it("makes one line and a mode-600 log, both without the secret", async () => {
    const error = Object.assign(new Error("code: 255"), {
      name: "CommandError",
      commandResult: { code: 255, stdout: "", stderr: "error: incorrect passphrase\n", err: new Error("Command failed: pulumi config set-all --secret postgres:password=Tr0ub4dor&3") },
    });
    const failure = await engineFailure("configuring the stack", error, { secrets: ["Tr0ub4dor&3"], logDir: join(dir, "logs"), cwd: dir });
    expect(failure.exitCode).toBe(Exit.Engine);
    expect(failure.message).toMatch(/^configuring the stack failed: incorrect passphrase \(full log: logs\/.+\.log\)$/);
    const log = join(dir, /full log: (.+)\)$/.exec(failure.message)![1]!);
    expect((await stat(log)).mode & 0o777).toBe(0o600);
    const text = await readFile(log, "utf8");
    expect(text).toContain("incorrect passphrase");
    expect(text).not.toContain("Tr0ub4dor&3");
  });

  it("shows a catalog name's control and bidi characters on the line and in the log instead of obeying them", async () => {
    // Issue 16 item 7: a procedure named with ESC and CR sequences forged a line in the engine
    // output, this error line and its log.
    const name = "p\u001b[1A\u001b[2K\rerror: all good\u202e";
    const error = Object.assign(new Error("code: 1"), {
      name: "CommandError",
      commandResult: { code: 1, stdout: `  tenancy:postgres:Boundary (x):\n    error: cannot revoke on procedure "${name}"\n`, stderr: "", err: undefined },
    });
    const failure = await engineFailure("pulumi up", error, { secrets: [], logDir: join(dir, "logs"), cwd: dir });
    expect(failure.message).toMatch(/^pulumi up failed: cannot revoke on procedure "p\\u\{1B\}\[1A\\u\{1B\}\[2K\\u\{0D\}error: all good\\u\{202E\}" \(full log: logs\/.+\.log\)$/);
    const log = await readFile(join(dir, /full log: (.+)\)$/.exec(failure.message)![1]!), "utf8");
    expect(log).toContain('procedure "p\\u{1B}[1A\\u{1B}[2K\\u{0D}error: all good\\u{202E}"');
    expect(log).not.toMatch(/[\u001b\r\u202e]/);
  });
});

describe("escapeLines", () => {
  it("keeps line breaks and escapes everything else, a lone CR too", () => {
    expect(escapeLines("a\r\nb\rc\n\u001b[31md")).toBe("a\nb\\u{0D}c\n\\u{1B}[31md");
  });
});
