// The markdown plan never exceeds GitHub's comment limit: the risk summary always survives,
// details fold, then shrink to counts, then are cut, with a visible count of what was cut.
import { describe, expect, it } from "vitest";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { formatMarkdown, GITHUB_COMMENT_LIMIT } from "../../cli/plan-markdown.ts";
import { formatText } from "../../cli/plan-text.ts";
import { generateDeclaration } from "../../bench/generate.ts";
import { planStack } from "../../policies/plan/plan.ts";
import { planReport } from "../../policies/plan/report.ts";

const side = (source: string, text: string) => ({ source, text, sha256: "0".repeat(64) });

function bigChange() {
  const base = generateDeclaration({ workspaces: 300, membersPerWorkspace: 20 });
  // Every editor becomes a viewer; 60 workspaces leave without being decommissioned.
  let head = base.replaceAll("role: editor", "role: viewer");
  const cut = head.indexOf("- slug: ws-240\n");
  head = head.slice(0, cut);
  return planReport([planStack({ stack: "big", base: side("base.yaml", base), head: side("head.yaml", head) })]);
}

// Plans 300 workspaces: a second or two, much more on a loaded machine.
describe("markdown size cap", { timeout: 120_000 }, () => {
  const report = bigChange();

  it("stays under 65,536 characters with the risk summary first and every cut counted", () => {
    const out = formatMarkdown(report);
    expect(out.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(out.startsWith("## tenancy plan fails\n")).toBe(true);
    expect(out).toContain("**Risks**\n\n- **irreversible**: workspace Workspace 240 (ws-240) is deleted, permanently");
    expect(out).toMatch(/- … and \d+ more risks \(see `--format json`\)/);
    expect(out).toMatch(/- … and 20 more violations/); // 60 guards, 40 listed
    const note = /_Details shortened to stay under GitHub's 65,536-character comment limit: (\d+) of (\d+) sections shown in full, (\d+) as counts only, (\d+) cut \((\d+) changes not listed\)/.exec(out);
    expect(note).not.toBeNull();
    const [full, total, compact, cut] = note!.slice(1, 5).map(Number);
    expect(full! + compact! + cut!).toBe(total);
    expect(total).toBe(300); // one per workspace (the organization itself is unchanged)
    expect(out.match(/<details>/g)!.length).toBe(full);
    expect(out.indexOf("**Risks**")).toBeLessThan(out.indexOf("### Details"));
  });

  it("keeps the summary and shrinks details to counts when the budget is tight", () => {
    const out = formatMarkdown(report, { maxChars: 24_000 });
    expect(out.length).toBeLessThanOrEqual(24_000);
    expect(out).toContain("**Violations**");
    expect(out).toContain("_Details shortened");
  });

  it("prints everything when it fits", () => {
    const small = planReport([planStack({ stack: "s", base: side("a", generateDeclaration({ workspaces: 2, membersPerWorkspace: 3 })), head: side("b", generateDeclaration({ workspaces: 3, membersPerWorkspace: 3 })) })]);
    const out = formatMarkdown(small);
    expect(out).not.toContain("_Details shortened");
    expect(out.match(/<details>/g)!.length).toBe(1); // the new workspace (same directory)
  });
});

// Names in a declaration are free text: whoever edits one in a pull request chooses what the
// plan comment shows. (The escaper itself is tested in test/components/escape.test.ts.)
describe("names in the plan", () => {
  // (No `/`, `+` or `=`: the plan would hide a value like that as a possible credential.)
  const hostile = "Support [Fix here](https:evil.example) www.evil.example ping @acme then &#8238; and <b>bold **b** | x\u001b[2K\rforged \u202eevil";
  const base = generateDeclaration({ workspaces: 3, membersPerWorkspace: 2 });
  const head = base.replace("name: Workspace 1\n", `name: ${JSON.stringify(hostile)}\n`).replace("name: Acme at scale\n", `name: ${JSON.stringify(`Acme ${hostile}`)}\n`);
  const report = planReport([planStack({ stack: "names", base: side("base.yaml", base), head: side("head.yaml", head) })]);

  it("render in the markdown as text: no link, image, mention, entity, tag or table cell", () => {
    expect(report.stacks[0]!.changes.filter((c) => c.summary.includes("evil.example")).length).toBeGreaterThanOrEqual(2);
    const out = formatMarkdown(report);
    const html = micromark(out, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).not.toMatch(/<(a|img|table)\b/);
    expect(html).not.toMatch(/<\/?b>|&#8238;|\u202e|\u001b|\r/);
    const text = html.replace(/<[^>]*>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
    expect(text).not.toMatch(/(?:^|[^\w`])@[a-z0-9]/im); // GitHub's mention pattern
    expect(text).toContain("Support [Fix here](https:evil.example) www.evil.example ping @\u200bacme then &#\u200b8238; and <b>bold **b** | x\\u001b[2K\\rforged \\u{202E}evil");
  });

  it("show in the text plan as one line each, every control and bidi character visible", () => {
    const out = formatText(report);
    expect(out).not.toMatch(/[\u001b\r\u202e]/);
    // Plan messages quote values JSON-style (\u001b, \r); what JSON leaves raw, escapeText shows.
    expect(out).toContain("x\\u001b[2K\\rforged \\u{202E}evil");
    for (const line of out.split("\n").filter((l) => l.includes("evil.example"))) expect(line).toMatch(/forged/);
  });
});
