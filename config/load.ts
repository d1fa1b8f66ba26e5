// Declaration text -> model, in the three steps of STYLE.md: zod safeParse, fill defaults
// (normalize), and hand the model to the rules (the caller's job). Library code: user mistakes
// come back as data, never as exceptions or exits.
import { readFile, stat } from "node:fs/promises";
import type { z } from "zod";
import { normalize, type TenancyModel } from "./model.ts";
import { DeclarationSchema, LenientDeclarationSchema } from "./schema.ts";
import { pathKey, YamlSource, type Path, type SourcePosition, type YamlProblem } from "./source.ts";

export interface SchemaIssue {
  readonly path: Path;
  /** zod's issue code, plus our `missing` for absent required keys and `unknown-key`. */
  readonly code: string;
  readonly message: string;
  /** The offending value as written (undefined when missing). */
  readonly value: unknown;
}

export type LoadResult =
  | { readonly ok: false; readonly file: string; readonly yaml: { message: string; position: SourcePosition } }
  | {
      readonly ok: true;
      readonly file: string;
      readonly source: YamlSource;
      /** Schema issues, empty when the declaration has the right shape and formats. */
      readonly issues: readonly SchemaIssue[];
      /**
       * The model for the rules. When the strict schema failed it comes from the lenient one,
       * with elements whose very shape was broken left out (`remap` turns a model path back
       * into a declaration path). Undefined when even that is impossible.
       */
      readonly model: TenancyModel | undefined;
      readonly remap: (path: Path) => Path;
    };

/**
 * The largest declaration accepted, in bytes (16 MiB: about 28,000 workspaces of 5 members).
 * Larger files are refused before they are read, so a huge or hostile file costs neither
 * minutes nor memory; validating one just under the limit takes seconds.
 */
export const MAX_DECLARATION_BYTES = 16 * 1024 * 1024;

/** The refusal for a declaration of `bytes`, or undefined when it is within the limit. */
export function sizeProblem(bytes: number): YamlProblem | undefined {
  if (bytes <= MAX_DECLARATION_BYTES) return undefined;
  const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return {
    message: `the declaration is ${mib(bytes)} (${bytes} bytes), over the limit of ${mib(MAX_DECLARATION_BYTES)} (${MAX_DECLARATION_BYTES} bytes); split the organization across stacks`,
    position: { line: 1, column: 1 },
  };
}

/** The file's text, or the size problem when it is over the limit (checked before reading). */
export async function readDeclarationFile(file: string): Promise<{ text: string } | { problem: YamlProblem }> {
  const problem = sizeProblem((await stat(file)).size);
  return problem ? { problem } : { text: await readFile(file, "utf8") };
}

export async function loadDeclarationFile(file: string): Promise<LoadResult> {
  const read = await readDeclarationFile(file);
  return "problem" in read ? { ok: false, file, yaml: read.problem } : loadDeclaration(read.text, file);
}

export function loadDeclaration(text: string, file: string): LoadResult {
  const tooLarge = sizeProblem(Buffer.byteLength(text, "utf8"));
  if (tooLarge) return { ok: false, file, yaml: tooLarge };
  const source = YamlSource.parse(text, file);
  if (!(source instanceof YamlSource)) return { ok: false, file, yaml: source };
  const identity = (path: Path) => path;
  const strict = DeclarationSchema.safeParse(source.value);
  if (strict.success) {
    return { ok: true, file, source, issues: [], model: normalize(strict.data), remap: identity };
  }
  const issues = strict.error.issues.flatMap((issue) => toIssues(issue, source.value));
  const { model, remap } = lenientModel(source.value);
  return { ok: true, file, source, issues, model, remap };
}

function toIssues(issue: z.core.$ZodIssue, root: unknown): SchemaIssue[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      path: [...path, key], code: "unknown-key", message: `unknown key "${key}"`, value: valueAt(root, [...path, key]),
    }));
  }
  const value = valueAt(root, path);
  if (value === undefined && issue.code === "invalid_type") {
    return [{ path, code: "missing", message: `missing required key "${String(path[path.length - 1])}"`, value }];
  }
  return [{ path, code: issue.code, message: describe(issue), value }];
}

/** zod's facts in our words: what must hold. The caller appends the value where printable. */
function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `must be ${issue.expected === "int" ? "a whole number" : `of type ${issue.expected}`}`;
    case "invalid_format":
      return issue.format === "regex" && "pattern" in issue ? `must match ${String(issue.pattern)}` : `must be a valid ${issue.format}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return issue.origin === "string" ? "must not be empty" : `must be at least ${String(issue.minimum)}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

export function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Lenient parse for the rules. Where even the shape is broken inside a list (a member without
 * a role, a workspace whose `members` is a string), that element is left out of the model,
 * and `remap` maps the remaining elements' paths back to where they are in the declaration.
 */
function lenientModel(raw: unknown): { model: TenancyModel | undefined; remap: (path: Path) => Path } {
  const identity = (path: Path) => path;
  const first = LenientDeclarationSchema.safeParse(raw);
  if (first.success) return { model: normalize(first.data), remap: identity };

  // One cut per broken element: the deepest list index on each issue's path.
  const cuts = new Map<string, { list: Path; index: number; path: Path }>();
  for (const issue of first.error.issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
    const at = path.findLastIndex((s) => typeof s === "number");
    if (at < 1) return { model: undefined, remap: identity }; // no list to cut from, or the root itself
    const cut = path.slice(0, at + 1);
    cuts.set(pathKey(cut), { list: path.slice(0, at), index: path[at] as number, path: cut });
  }
  // A cut inside an element that is itself cut is redundant: look up the cut's own shorter
  // prefixes (a path is a handful of segments), never the other cuts.
  const kept = [...cuts.values()].filter(({ path }) =>
    !path.some((segment, i) => i < path.length - 1 && typeof segment === "number" && cuts.has(pathKey(path.slice(0, i + 1)))));

  // Per list, the indices to drop; each list is filtered once. Deepest lists first, so that the
  // paths of the lists still to filter (taken before any removal) stay valid.
  const byList = new Map<string, { list: Path; drop: Set<number> }>();
  for (const { list, index } of kept) {
    const key = pathKey(list);
    const entry = byList.get(key) ?? byList.set(key, { list, drop: new Set() }).get(key)!;
    entry.drop.add(index);
  }
  // Copy on write: only the containers on the way to a filtered list are copied (the raw value
  // is the parse result, which the schema issues still point into), never the whole document.
  const copied = new Set<unknown>();
  const shallow = (node: unknown): unknown => {
    if (node === null || typeof node !== "object" || copied.has(node)) return node;
    const copy = Array.isArray(node) ? [...node] : { ...(node as object) };
    copied.add(copy);
    return copy;
  };
  const value = shallow(raw);
  /** Per filtered list, the declaration index of each element left. */
  const origin = new Map<string, number[]>();
  for (const [key, { list, drop }] of [...byList].sort((a, b) => b[1].list.length - a[1].list.length)) {
    let parent = value as Record<string | number, unknown>;
    for (const segment of list.slice(0, -1)) parent = (parent[segment] = shallow(parent[segment])) as Record<string | number, unknown>;
    const last = list[list.length - 1]!;
    const items = parent[last] as unknown[];
    const left: unknown[] = [];
    const indices: number[] = [];
    for (const [i, item] of items.entries()) {
      if (drop.has(i)) continue;
      left.push(item);
      indices.push(i);
    }
    copied.add(left);
    parent[last] = left;
    origin.set(key, indices);
  }
  const second = LenientDeclarationSchema.safeParse(value);
  if (!second.success) return { model: undefined, remap: identity };

  const remap = (path: Path): Path => {
    const out: (string | number)[] = [];
    for (const segment of path) {
      const indices = typeof segment === "number" ? origin.get(pathKey(out)) : undefined;
      out.push(indices && typeof segment === "number" ? (indices[segment] ?? segment) : segment);
    }
    return out;
  };
  return { model: normalize(second.data), remap };
}
