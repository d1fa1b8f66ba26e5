// The HTML report: self-contained, every name escaped, and drawn by a real browser (headless
// Chromium) into a screenshot whose pixels show the access matrix's red and green cells.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { formatAudit } from "../../audit/output.ts";
import { auditTampered } from "./fixture.ts";
import { countColour, readPng } from "./png.ts";
import { HOSTILE_ROLE, tamperedReport } from "./report-fixture.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "tenancy-audit-html-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Chromium as Debian and CI (.ci/install-chromium.sh) install it, or CHROMIUM. */
function chromium(): string {
  const found = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => p && existsSync(p));
  if (!found) throw new Error("no Chromium: run .ci/install-chromium.sh (apt-get install chromium) or set CHROMIUM");
  return found;
}
const headless = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions", `--user-data-dir=${join(dir, "profile")}`];

describe("audit HTML report", () => {
  const html = formatAudit(tamperedReport(), "html");

  it("is self-contained: no script, no external asset, a CSP that forbids both", () => {
    expect(html).not.toMatch(/<script/i);
    // Attribute values (escaped, so free of `"`) blanked: a name in a title is not an attribute.
    expect(html.replace(/"[^"]*"/g, '""')).not.toMatch(/<[a-z][^<>]*\s(?:src|href)\s*=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it("escapes every name: a hostile role name is text, not markup", () => {
    expect(html).not.toContain("<img");
    expect(html).toContain("evil&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;\\u{202E}");
    expect(html).not.toContain(HOSTILE_ROLE);
  });

  it("draws workspaces as rows and who reaches them as columns, findings in red", () => {
    const matrix = /<table class="matrix"[^]*?<\/table>/.exec(html)![0];
    const rows = [...matrix.matchAll(/<th scope="row">([^<]*)/g)].map((m) => m[1]);
    expect(rows).toEqual(["emea-support", "us-sales", "internal", "ghost (not declared)", "control plane"]);
    const columns = [...matrix.matchAll(/<th class="col" scope="col" title="[^"]*"><div>([^<]*)/g)].map((m) => m[1]);
    expect(columns.slice(0, 4)).toEqual(["(own roles)", "postgres", "tenancy_auditor", "PUBLIC"]);
    expect(columns).toContain("acme__us_sales__app");
    expect(matrix.match(/class="cell undeclared"/g)).toHaveLength(4); // us_sales app, PUBLIC, the hostile role, the stray schema
  });

  it("a clean audit has no red cell", () => {
    const clean = formatAudit(auditTampered(() => {}), "html");
    expect(clean).not.toContain(`class="cell undeclared"`);
    expect(clean).toContain(`<div class="verdict pass"`);
  });

  it("renders in headless Chromium: a screenshot with the matrix's red and green, and the verdict in the DOM", { timeout: 120_000 }, async () => {
    const page = join(dir, "audit.html");
    const shot = join(dir, "audit.png");
    writeFileSync(page, html);
    await run(chromium(), [...headless, "--window-size=1280,1400", `--screenshot=${shot}`, `file://${page}`], { timeout: 90_000 });
    const png = readFileSync(shot);
    // Kept for a person to look at: TENANCY_AUDIT_SCREENSHOT=path npx vitest run test/audit/html.test.ts
    if (process.env.TENANCY_AUDIT_SCREENSHOT) writeFileSync(process.env.TENANCY_AUDIT_SCREENSHOT, png);
    const image = readPng(png);
    expect([image.width, image.height]).toEqual([1280, 1400]);
    const red = countColour(image, [0xff, 0x81, 0x82]);
    const green = countColour(image, [0xda, 0xfb, 0xe1]);
    const white = countColour(image, [0xff, 0xff, 0xff]);
    expect(red).toBeGreaterThan(5_000);   // four undeclared cells and the legend
    expect(green).toBeGreaterThan(20_000); // the workspaces' own roles, the verdict is red
    expect(white).toBeLessThan(image.width * image.height * 0.95); // not a blank page
    const { stdout: dom } = await run(chromium(), [...headless, "--dump-dom", `file://${page}`], { timeout: 90_000, maxBuffer: 10 * 1024 * 1024 });
    expect(dom).toMatch(/<div class="verdict fail" id="verdict">\d+ findings: 4 boundary, 1 unexpected/);
    expect(dom).not.toContain("<img");
  });
});
