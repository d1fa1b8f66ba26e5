// One escaper for every name that comes from the database or a declaration into terminal,
// markdown or HTML output. Catalog names are chosen by whoever holds a workspace role: a table
// named with ESC sequences, a carriage return or a right-to-left override can forge lines in a
// terminal or a log, and one named `[Fix here](https://…)` or `@acme/security-team` can plant a
// link or ping a team in a pull-request comment. Pure: no Pulumi, SQL or file system.

/**
 * Control characters (C0, DEL, C1: ESC, CR, LF, TAB…), invisible format characters (category
 * Cf: bidi marks, embeddings, overrides and isolates, U+061C, zero-width characters, the BOM,
 * the soft hyphen, tag characters), the line and paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const hex = (c: string) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(2, "0")}}`;

/**
 * Text for a terminal, a log line or any other plain text: every control, bidi or other
 * invisible format character becomes `\u{XX}` (its code point in hex, e.g. ESC is `\u{1B}`,
 * a newline `\u{0A}`, a right-to-left override `\u{202E}`); everything else is unchanged. The
 * result is one line that shows every character it holds.
 */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, hex);
}

/**
 * Markdown characters written as numeric character references. CommonMark treats a character
 * reference as literal text, never as markup, and so does HTML, so the result reads the same in
 * markdown prose, in a GFM table cell (a reference holds no `|` to split the row) and inside an
 * HTML block such as `<details><summary>…</summary>`, where backslash escapes would show.
 */
const MARKUP: Readonly<Record<string, string>> = {
  "&": "&amp;", // entities: `&#8238;` must show as written, not as a right-to-left override
  "<": "&lt;", // raw HTML and autolinks `<https://…>`
  ">": "&gt;", // block quotes
  "\\": "&#92;", // backslash escapes (`\&` would undo the `&` above)
  "`": "&#96;", // code spans
  "*": "&#42;", // emphasis (`*` opens emphasis even inside a word)
  "~": "&#126;", // strikethrough
  "[": "&#91;", // links and images: without `[` there is no `](`, `![` or reference
  "]": "&#93;",
  "|": "&#124;", // table cells
  "#": "&#35;", // headings
  $: "&#36;", // GitHub math
};

/**
 * A name (or a message quoting names) as literal text in GitHub-flavoured markdown: a comment,
 * a table cell or an HTML summary line. `escapeText` first (so one line, nothing invisible),
 * then no link, image, autolink, mention, entity, HTML tag, emphasis, code span, heading,
 * strikethrough, math or table cell can come out of it:
 *
 * - markdown characters become character references (see MARKUP); `_` only where it could
 *   start or end emphasis (a `_` between two letters or digits cannot, so `acme__app` stays
 *   readable and short);
 * - bare URLs (`https://`, `www.`) lose the `:` or `.` that GFM's autolinking looks for;
 * - `@` is followed by a zero-width space (`&#8203;`), so GitHub does not turn `@team` or
 *   `a@b.example` into a mention or a mail link: its mention filter runs on the rendered
 *   text, after markdown, so no markdown escape can stop it (Renovate's bot does the same);
 * - a leading space, `-`, `+`, `=` or `1.` cannot start a code block, a list or a setext
 *   heading when the name starts a line; a leading or trailing space is kept, not trimmed
 *   from the paragraph or table cell.
 */
export function escapeMarkdown(s: string): string {
  return escapeText(s)
    .replace(/[&<>\\`*~[\]|#$]/g, (c) => MARKUP[c]!)
    .replace(/_+/g, (run, at: number, all: string) =>
      /[A-Za-z0-9]/.test(all[at - 1] ?? "") && /[A-Za-z0-9]/.test(all[at + run.length] ?? "") ? run : "&#95;".repeat(run.length))
    .replace(/:(?=\/\/)/g, "&#58;")
    .replace(/(www)\./gi, "$1&#46;")
    .replace(/@/g, "@&#8203;")
    .replace(/^([-+= ])|^(\d+)([.)])/, (_m, lead?: string, digits?: string, dot?: string) =>
      lead ? `&#${lead.charCodeAt(0)};` : `${digits}&#${dot!.charCodeAt(0)};`)
    .replace(/ $/, "&#32;");
}

const HTML: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** A name as HTML text or attribute value: `escapeText`, then `& < > " '` as entities. */
export function escapeHtml(s: string): string {
  return escapeText(s).replace(/[&<>"']/g, (c) => HTML[c]!);
}
