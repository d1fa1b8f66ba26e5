// Declaration text -> model, in the three steps of STYLE.md: zod safeParse, fill defaults
// (normalize), and hand the model to the rules (the caller's job). Library code: user mistakes
// come back as data, never as exceptions or exits.
import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { normalize, type TenancyModel } from "./model.ts";
import { DeclarationSchema, LenientDeclarationSchema } from "./schema.ts";
import { pathKey, YamlSource, type Path, type SourcePosition } from "./source.ts";

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

export async function loadDeclarationFile(file: string): Promise<LoadResult> {
  return loadDeclaration(await readFile(file, "utf8"), file);
}

export function loadDeclaration(text: string, file: string): LoadResult {
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

  // One cut per broken element: the deepest list index on each issue's path. A cut inside an
  // element that is itself cut is redundant.
  const cuts = new Map<string, { list: Path; index: number }>();
  for (const issue of first.error.issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
    const at = path.findLastIndex((s) => typeof s === "number");
    if (at < 0) return { model: undefined, remap: identity };
    const list = path.slice(0, at);
    cuts.set(pathKey([...list, path[at]!]), { list, index: path[at] as number });
  }
  const kept = [...cuts.entries()].filter(([key]) =>
    ![...cuts.keys()].some((other) => other !== key && key.startsWith(other + "\u0001")));

  const value = structuredClone(raw);
  const removed = new Map<string, number[]>();
  // Deepest lists first, and within a list from the end, so earlier paths stay valid.
  const ordered = kept.map(([, cut]) => cut).sort((a, b) => b.list.length - a.list.length || b.index - a.index);
  for (const { list, index } of ordered) {
    (valueAt(value, list) as unknown[]).splice(index, 1);
    const key = pathKey(list);
    removed.set(key, [...(removed.get(key) ?? []), index].sort((a, b) => a - b));
  }
  const second = LenientDeclarationSchema.safeParse(value);
  if (!second.success) return { model: undefined, remap: identity };

  const remap = (path: Path): Path => {
    const out: (string | number)[] = [];
    for (const segment of path) {
      const gaps = typeof segment === "number" ? removed.get(pathKey(out)) : undefined;
      let index = segment;
      if (gaps && typeof index === "number") for (const gap of gaps) if (gap <= index) index++;
      out.push(index);
    }
    return out;
  };
  return { model: normalize(second.data), remap };
}
