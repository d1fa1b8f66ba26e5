// Names from the catalogs and declarations reach terminals, logs, pull-request comments and
// HTML. The escaper must show every character and let none of them act: no forged lines, no
// hidden or reordered text, and in markdown no link, mention, entity, HTML or table cell.
// The markdown is rendered with micromark and its GFM extension (CommonMark and GitHub's
// autolinks, tables, strikethrough), with raw HTML allowed as GitHub allows it; GitHub's
// mention filter, which runs on the rendered text, is applied as GitHub documents it.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { escapeHtml, escapeMarkdown, escapeText } from "../../components/escape.ts";

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

const render = (markdown: string) =>
  micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });

/** Text of rendered HTML: what a reader sees (tags removed, references decoded). */
function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot));/gi, (_m, dec?: string, hx?: string, name?: string) =>
      dec ? String.fromCodePoint(Number(dec)) : hx ? String.fromCodePoint(parseInt(hx, 16))
        : ({ amp: "&", lt: "<", gt: ">", quot: '"' } as Record<string, string>)[name!.toLowerCase()]!);
}

/** Tags in rendered HTML, by name. */
const tags = (html: string) => [...html.matchAll(/<\/?([a-z][a-z0-9-]*)/gi)].map((m) => m[1]!.toLowerCase());

/** GitHub's mention filter: `@name` or `@org/team` after a non-word character, outside code and links. */
const mentions = (text: string) => text.match(/(?:^|[^\w`])@[a-z0-9][a-z0-9-]*/gi) ?? [];

/** What the reader must see for a name: escapeText's output, with the zero-width space after `@`. */
const shown = (s: string) => escapeText(s).replace(/@/g, "@\u200B");

// Strings built from what markdown, HTML and terminals react to, plus letters and spaces.
const nasty = fc.string({
  unit: fc.constantFrom(
    "a", "z", "0", "9", " ", "-", "_", "*", "`", "~", "[", "]", "(", ")", "!", "<", ">", "&", "#", ";",
    "|", "\\", "@", "/", ":", ".", "$", "=", "+", "'", '"', "w", "http", "https://", "www.", "mailto:",
    "\n", "\r", "\t", "\u001b", "\u0000", "\u007f", "\u0085", "\u009b", "\u200e", "\u202e", "\u2066", "\u061c",
    "\u200b", "\u200d", "\ufeff", "\u2028", "\u2029", "\u00ad", "é", "語", "😀",
  ),
  maxLength: 40,
});

describe("escapeText", () => {
  it("shows control, bidi and invisible format characters as \\u{XX}", () => {
    expect(escapeText("a\u001b[31mred\r\nforged")).toBe("a\\u{1B}[31mred\\u{0D}\\u{0A}forged");
    expect(escapeText("\u0000\t\u007f\u0085\u009b")).toBe("\\u{00}\\u{09}\\u{7F}\\u{85}\\u{9B}");
    expect(escapeText("evil\u202Etxt.exe")).toBe("evil\\u{202E}txt.exe");
    expect(escapeText("\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c"))
      .toBe("\\u{200E}\\u{200F}\\u{202A}\\u{202B}\\u{202C}\\u{202D}\\u{2066}\\u{2067}\\u{2068}\\u{2069}\\u{61C}");
    expect(escapeText("zero\u200bwidth\u200c\u200d\ufeff\u00ad")).toBe("zero\\u{200B}width\\u{200C}\\u{200D}\\u{FEFF}\\u{AD}");
    expect(escapeText("line\u2028para\u2029")).toBe("line\\u{2028}para\\u{2029}");
    expect(escapeText("tag\u{E0041}")).toBe("tag\\u{E0041}");
    expect(escapeText("lone\ud800")).toBe("lone\\u{D800}");
  });

  it("leaves everything else as it is", () => {
    for (const s of ["acme__emea_support__app", "Ünïcödé 語 😀", "[x](y) <b> & @team | `c` \\", "  spaced  "]) {
      expect(escapeText(s)).toBe(s);
    }
  });

  it("never lets a control, bidi or invisible format character through, and is one line", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), nasty, (a, b) => {
      for (const s of [a, b]) {
        const out = escapeText(s);
        expect(out).not.toMatch(UNSAFE);
        expect(out).not.toMatch(/[\r\n]/);
      }
    }));
  });

  it("changes only the characters it must", () => {
    fc.assert(fc.property(nasty, (s) => {
      const clean = [...s].filter((c) => !UNSAFE.test(c)).join("");
      expect(escapeText(clean)).toBe(clean);
      expect(escapeText(s).replace(/\\u\{[0-9A-F]+\}/g, "")).toBe(clean.replace(/\\u\{[0-9A-F]+\}/g, ""));
    }));
  });
});

describe("escapeHtml", () => {
  it("escapes the five HTML characters after escapeText", () => {
    expect(escapeHtml(`<img src=x onerror='a("b")'>&amp;\u202e`))
      .toBe("&lt;img src=x onerror=&#39;a(&quot;b&quot;)&#39;&gt;&amp;amp;\\u{202E}");
  });

  it("never outputs a tag, a quote, a bare & or a control character, and decodes back to escapeText", () => {
    fc.assert(fc.property(nasty, fc.string({ unit: "grapheme" }), (a, b) => {
      for (const s of [a, b]) {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"']/);
        expect(out).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
        expect(out).not.toMatch(UNSAFE);
        expect(textOf(out.replace(/&#39;/g, "'"))).toBe(escapeText(s));
      }
    }));
  });
});

describe("escapeMarkdown", () => {
  const cases: [name: string, input: string][] = [
    ["a link", "[Fix here](https://evil.example/x)"],
    ["an image", "![x](https://evil.example/p.png)"],
    ["an autolink", "<https://evil.example>"],
    ["a bare URL", "see https://evil.example/fix and www.evil.example"],
    ["an email", "ops@evil.example"],
    ["a team mention", "@acme/security-team"],
    ["a user mention inside a word", "ping-@octocat"],
    ["an entity", "&#8238;txt.exe &amp; &lt;b&gt;"],
    ["raw HTML", '<img src=x onerror="alert(1)"><script>x</script>'],
    ["emphasis", "*bold* _it_ __b__ ***x***"],
    ["a code span", "`code` ``x``"],
    ["strikethrough", "~~gone~~ ~x~"],
    ["a heading", "# Heading"],
    ["a list", "- item"],
    ["an ordered list", "1. item"],
    ["an indented code block", "    code"],
    ["a setext underline", "==="],
    ["a block quote", "> quoted"],
    ["math", "$x^2$"],
    ["a backslash before an escape", "\\[x](y) \\&amp;"],
    ["a forged line", "t\r\n## ✅ clean\u001b[2K"],
  ];

  for (const [what, input] of cases) {
    it(`renders ${what} as literal text`, () => {
      const html = render(escapeMarkdown(input));
      expect(tags(html).filter((t) => t !== "p")).toEqual([]);
      expect(textOf(html).trimEnd()).toBe(shown(input));
      expect(mentions(textOf(html))).toEqual([]);
    });
  }

  it("keeps names readable: slugs and role names pass unchanged", () => {
    for (const s of ["emea-support", "acme__emea_support__app", "Workspace 240 (ws-240)", "a.b: c"]) {
      expect(escapeMarkdown(s)).toBe(s);
    }
    expect(escapeMarkdown("@acme/security-team")).toBe("@&#8203;acme/security-team");
    expect(escapeMarkdown("&#8238;")).toBe("&amp;&#35;8238;");
  });

  it("renders anything as the literal text in a paragraph, at a line start, in a list and in a table cell", () => {
    fc.assert(fc.property(nasty, (s) => {
      const e = escapeMarkdown(s);
      expect(e).not.toMatch(UNSAFE);
      expect(e).not.toMatch(/[\r\n<>|`]/);

      const para = render(`x ${e} y`);
      expect(tags(para)).toEqual(["p", "p"]);
      expect(textOf(para)).toBe(`x ${shown(s)} y`);
      expect(mentions(textOf(para))).toEqual([]);

      const start = render(e);
      expect(tags(start).filter((t) => t !== "p")).toEqual([]);
      expect(textOf(start)).toBe(shown(s));

      const item = render(`- **risk**: ${e} end`);
      expect(tags(item)).toEqual(["ul", "li", "strong", "strong", "li", "ul"]);
      expect(textOf(item)).toContain(`risk: ${shown(s)} end`.trim());

      const table = render(`| a | b | c |\n| --- | --- | --- |\n| 1 | ${e} | 3 |\n`);
      expect(tags(table).filter((t) => t === "td")).toHaveLength(6); // three cells, opened and closed
      expect(tags(table).filter((t) => !/^(table|thead|tbody|tr|th|td)$/.test(t))).toEqual([]);
      const cells = [...table.matchAll(/<td>([^]*?)<\/td>/g)].map((m) => textOf(m[1]!));
      expect(cells).toEqual(["1", shown(s), "3"]);
    }), { numRuns: 500 });
  });

  it("renders as the literal text inside an HTML summary, where backslash escapes would show", () => {
    fc.assert(fc.property(nasty, (s) => {
      const html = render(`<details><summary><code>stack</code> · ${escapeMarkdown(s)}: 2 changes</summary>\n\n- x\n\n</details>\n`);
      const summary = /<summary>([^]*?)<\/summary>/.exec(html)![1]!;
      expect(tags(summary)).toEqual(["code", "code"]);
      expect(textOf(summary)).toBe(`stack · ${shown(s)}: 2 changes`);
      expect(mentions(textOf(summary))).toEqual([]);
    }), { numRuns: 300 });
  });
});
