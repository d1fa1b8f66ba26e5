import fc from "fast-check";
import { dump } from "js-yaml";
import { describe, expect, it } from "vitest";
import { YamlSource, type YamlProblem } from "../../config/source.ts";

function parse(text: string): YamlSource {
  const source = YamlSource.parse(text, "t.yaml");
  if (!(source instanceof YamlSource)) throw new Error(`unexpected YAML problem: ${source.message}`);
  return source;
}

function problem(text: string): YamlProblem {
  const source = YamlSource.parse(text, "t.yaml");
  if (source instanceof YamlSource) throw new Error("expected a YAML problem");
  return source;
}

describe("YamlSource", () => {
  it("locates scalars, collections by their key, and missing keys by their parent", () => {
    const source = parse("a:\n  b: [1, 2]\n  c:\n    - { d: x }\n");
    expect(source.locate(["a", "b", 1])).toEqual({ line: 2, column: 10 });
    expect(source.locate(["a", "b"])).toEqual({ line: 2, column: 3 });
    expect(source.locate(["a", "c", 0, "d"])).toEqual({ line: 4, column: 12 });
    expect(source.locate(["a", "c", 0, "missing"])).toEqual({ line: 4, column: 7 });
    expect(source.locate(["a", "zzz"])).toEqual({ line: 1, column: 1 });
  });

  it("counts columns in characters, not UTF-16 units", () => {
    const source = parse("name: \"😀😀\"\nnext: x\nemoji: { k: 😀, v: y }\n");
    // `y` is the 19th character of its line; in UTF-16 units it would be the 20th.
    expect(source.locate(["emoji", "v"])).toEqual({ line: 3, column: 19 });
  });

  it("rejects duplicate keys, naming the key and its line", () => {
    const p = problem("a: 1\nb:\n  c: 1\n  c: 2\n");
    expect(p.message).toContain('duplicated mapping key "c"');
    expect(p.position.line).toBe(4);
  });

  it("rejects an alias bomb without expanding it", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10).fill(`*${"abcdefghij"[i - 1]}`).join(", ")}]`);
    const started = process.memoryUsage().heapUsed;
    const p = problem(levels.join("\n") + "\n");
    expect(p.message).toMatch(/alias bomb/);
    expect(p.position.line).toBe(2);
    expect(process.memoryUsage().heapUsed - started).toBeLessThan(200 * 1024 * 1024);
  });

  it("allows a few aliases for shared blocks", () => {
    const source = parse("base: &p { letterhead: A, accentColour: '#000000', contactBlock: c }\nws: [{ p: *p }, { p: *p }]\n");
    expect((source.value as { ws: { p: unknown }[] }).ws[1]!.p).toEqual({ letterhead: "A", accentColour: "#000000", contactBlock: "c" });
  });

  it("rejects more aliases than the limit", () => {
    const p = problem(`a: &a 1\nb: [${Array(101).fill("*a").join(", ")}]\n`);
    expect(p.message).toMatch(/maxAliases/);
  });

  it("rejects several documents and an empty file", () => {
    expect(problem("a: 1\n---\nb: 2\n").position.line).toBe(2);
    expect(problem("").message).toMatch(/no YAML document/);
  });

  it("reads YAML 1.2 core scalars, so `no` stays a string", () => {
    expect(parse("a: no\nb: 010\nc: 0o10\nd: ~\n").value).toEqual({ a: "no", b: 10, c: 8, d: null });
  });

  it("points every scalar path of any dumped document at that scalar's text", () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
    const scalar = fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,10}$/), fc.integer({ min: 0, max: 10_000 }));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("map"), tie("list")),
      map: fc.dictionary(key, tie("node"), { minKeys: 1, maxKeys: 4 }),
      list: fc.array(tie("node"), { minLength: 1, maxLength: 4 }),
    })).map;
    fc.assert(fc.property(tree, fc.boolean(), (doc, flow) => {
      const text = dump(doc, { flowLevel: flow ? 2 : -1 });
      const source = parse(text);
      expect(source.value).toEqual(doc);
      const lines = text.split("\n");
      const visit = (node: unknown, path: (string | number)[]): void => {
        if (node !== null && typeof node === "object") {
          for (const [k, v] of Object.entries(node)) visit(v, [...path, Array.isArray(node) ? Number(k) : k]);
          return;
        }
        const { line, column } = source.locate(path);
        const at = [...lines[line - 1]!].slice(column - 1).join("");
        expect(at.startsWith(String(node)) || at.startsWith(JSON.stringify(node)) || at.startsWith(`'${String(node)}`)).toBe(true);
      };
      visit(doc, []);
    }), { numRuns: 200 });
  });
});
