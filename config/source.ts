// YAML text -> plain value, with exact source positions for any path in it.
//
// We parse with js-yaml 5's event stream rather than the `yaml` library's Document: on a 2.4 MB
// declaration the events + construction take ~0.23 s against ~2 s for `yaml` (bench/parse.bench.ts
// prints both). The events carry source offsets, so positions are not lost: the index from path
// to offset is built from the same events, and only when an error has to be located.
import {
  constructFromEvents, EVENT_ID, getScalarValue, parseEvents, YAMLException,
  type Event, type ScalarEvent,
} from "js-yaml";

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface YamlProblem {
  readonly message: string;
  readonly position: SourcePosition;
}

/** Alias nodes allowed per document: anchors are fine for sharing a block, not for bombs. */
export const MAX_ALIASES = 100;
/** Aliases may expand the document, but never past this many nodes beyond the source's own. */
const MAX_ALIAS_EXPANSION = 10_000;

export class YamlSource {
  private lineStarts: number[] | undefined;
  private root: SourceNode | undefined;

  private constructor(
    readonly text: string,
    private readonly events: readonly Event[],
    readonly value: unknown,
  ) {}

  /** Parses one YAML document. Returns the source, or the problem with its position. */
  static parse(text: string, file: string): YamlSource | YamlProblem {
    const lineOf = (offset: number) => positionIn(text, lineStartsOf(text), offset);
    let events: Event[];
    try {
      events = parseEvents(text, { filename: file });
      let documents = 0;
      let aliases = 0;
      for (const e of events) {
        if (e.type === EVENT_ID.DOCUMENT) documents++;
        else if (e.type === EVENT_ID.ALIAS) aliases++;
      }
      if (documents === 0) return { message: "the file holds no YAML document", position: { line: 1, column: 1 } };
      if (documents > 1) return { message: "a declaration is one YAML document; found several (---)", position: lineOf(secondDocumentOffset(text)) };
      const [value] = constructFromEvents(events, { source: text, filename: file, maxAliases: MAX_ALIASES });
      const nodes = events.length;
      // A `__proto__` key swaps a mapping's prototype wherever it is assigned (zod's record
      // output does): its fields would be inherited, invisible to key checks yet read by the
      // schema and the rules. Refused outright.
      if (text.includes("__proto__") && swappedPrototype(value)) {
        const key = /(?:^|[\s{,])(["']?__proto__["']?\s*:)/.exec(text);
        return { message: "the key \"__proto__\" is not allowed", position: lineOf(key ? key.index + key[0].length - key[1]!.length : 0) };
      }
      // A cyclic alias (`&a [*a]`) expands forever: it counts as past any limit.
      // Without aliases the tree is the source's own size: the walk is only for documents that have some.
      if (aliases > 0 && expandedSize(value, nodes + MAX_ALIAS_EXPANSION) > nodes + MAX_ALIAS_EXPANSION) {
        return { message: `aliases expand to more than ${MAX_ALIAS_EXPANSION} extra nodes (an alias bomb?); write the values out`, position: lineOf(firstAliasOffset(events)) };
      }
      return new YamlSource(text, events, value);
    } catch (error) {
      if (error instanceof YAMLException) {
        const mark = error.mark;
        // js-yaml names no key in this one; the key is right at the mark.
        const key = error.reason === "duplicated mapping key" && mark ? /^[^:\n]*/.exec(text.slice(mark.position))?.[0].trim() : undefined;
        return {
          message: key ? `duplicated mapping key ${JSON.stringify(key)}: each key may appear once` : error.reason,
          position: mark ? { line: mark.line + 1, column: mark.column + 1 } : { line: 1, column: 1 },
        };
      }
      throw error;
    }
  }

  /**
   * Where `path` is written: a scalar's value, or the key of a collection or of an unknown key
   * (`at: "key"`), which is the line people look for. A path that does not exist (a missing key)
   * resolves to its deepest existing parent.
   */
  locate(path: Path, at: "key" | "value" = "value"): SourcePosition {
    const root = this.index();
    if (!root) return { line: 1, column: 1 };
    // The deepest node on the path that exists: a walk down the tree, one step per segment.
    let node = root;
    let n = 0;
    for (; n < path.length; n++) {
      const child = childOf(node, path[n]!);
      if (!child) break;
      node = child;
    }
    const preferKey = at === "key" || n < path.length || node.kids !== undefined;
    const offset = (preferKey ? node.key : undefined) ?? node.value;
    return positionIn(this.text, (this.lineStarts ??= lineStartsOf(this.text)), offset);
  }

  /**
   * The document as a tree of offsets, built once from the events when a first error is
   * located. A tree rather than a map from path strings: no path is copied or joined per node,
   * so indexing a declaration with thousands of errors stays linear and small.
   */
  private index(): SourceNode | undefined {
    if (this.root) return this.root;
    interface Frame { node: SourceNode; kind: "map" | "seq" | "doc"; key?: string; keyOffset?: number; count: number }
    const stack: Frame[] = [];
    let root: SourceNode | undefined;
    // Where the next node goes; records a key (and returns undefined) when the parent mapping
    // is waiting for one.
    const place = (keyOffset: number, value: number, scalar?: ScalarEvent): SourceNode | undefined => {
      const parent = stack[stack.length - 1];
      if (!parent || parent.kind === "doc") return (root = { value });
      if (parent.kind === "seq") {
        const node: SourceNode = { value };
        (parent.node.kids as SourceNode[]).push(node);
        return node;
      }
      if (parent.key === undefined) {
        parent.key = scalar ? getScalarValue(this.text, scalar) : `#${parent.count}`;
        parent.keyOffset = keyOffset;
        return undefined;
      }
      const node: SourceNode = { key: parent.keyOffset!, value };
      (parent.node.kids as Map<string, SourceNode>).set(parent.key, node);
      parent.key = undefined;
      parent.count++;
      return node;
    };
    for (const event of this.events) {
      switch (event.type) {
        case EVENT_ID.DOCUMENT:
          stack.push({ node: { value: 0 }, kind: "doc", count: 0 });
          break;
        case EVENT_ID.MAPPING:
        case EVENT_ID.SEQUENCE: {
          const offset = event.anchorStart >= 0 ? event.anchorStart - 1 : event.start;
          // A collection used as a mapping key (rare) gets a node no path reaches.
          const node = place(offset, event.start) ?? { value: event.start };
          const kind = event.type === EVENT_ID.MAPPING ? "map" : "seq";
          node.kids = kind === "map" ? new Map() : [];
          stack.push({ node, kind, count: 0 });
          break;
        }
        case EVENT_ID.SCALAR:
          place(event.valueStart, event.valueStart, event);
          break;
        case EVENT_ID.ALIAS:
          place(event.anchorStart - 1, event.anchorStart - 1);
          break;
        case EVENT_ID.POP:
          stack.pop();
          break;
      }
    }
    return (this.root = root);
  }
}

/** One node of the source: where its key (in a mapping) and its value start. */
interface SourceNode {
  readonly key?: number;
  readonly value: number;
  /** Children of a mapping (by key) or a sequence (by index); absent for scalars and aliases. */
  kids?: Map<string, SourceNode> | SourceNode[];
}

function childOf(node: SourceNode, segment: PathSegment): SourceNode | undefined {
  const kids = node.kids;
  if (kids === undefined) return undefined;
  if (kids instanceof Map) return kids.get(String(segment));
  const index = typeof segment === "number" ? segment : /^\d+$/.test(segment) ? Number(segment) : -1;
  return index >= 0 ? kids[index] : undefined;
}

export function pathKey(path: Path): string {
  return path.join("\u0001");
}

/** `workspaces[2].members[0].role` */
export function formatPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out === "" ? "(document)" : out;
}

/** Line starts after "\n", "\r\n" and a lone "\r", the three breaks YAML (and js-yaml) accept. */
function lineStartsOf(text: string): number[] {
  const starts = [0];
  const breaks = /\r\n?|\n/g;
  for (let m = breaks.exec(text); m !== null; m = breaks.exec(text)) starts.push(m.index + m[0].length);
  return starts;
}

function positionIn(text: string, starts: number[], offset: number): SourcePosition {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  // Columns count characters as people see them, not UTF-16 code units.
  const column = [...text.slice(starts[lo]!, Math.max(offset, starts[lo]!))].length + 1;
  return { line: lo + 1, column };
}

function secondDocumentOffset(text: string): number {
  const match = /^---/m.exec(text.slice(1));
  return match ? match.index + 1 : 0;
}

/** Whether some mapping in `value` has a `__proto__` key, or lost its usual prototype. */
function swappedPrototype(value: unknown): boolean {
  const seen = new Set<object>();
  const todo = [value];
  while (todo.length > 0) {
    const node = todo.pop();
    if (node === null || typeof node !== "object" || seen.has(node)) continue;
    seen.add(node);
    const proto = Object.getPrototypeOf(node);
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return true;
    if (Object.hasOwn(node, "__proto__")) return true;
    todo.push(...Object.values(node));
  }
  return false;
}

function firstAliasOffset(events: readonly Event[]): number {
  const alias = events.find((e) => e.type === EVENT_ID.ALIAS);
  return alias && alias.type === EVENT_ID.ALIAS ? alias.anchorStart - 1 : 0;
}

/**
 * Node count of `value` as a tree, i.e. with every alias expanded, stopping once past `limit`.
 * Memoised on object identity, so a document of shared references costs its distinct size; a
 * node that contains itself (a cyclic alias) is infinite. Iterative: nesting depth is bounded
 * by the parser, but this must not depend on it.
 */
function expandedSize(value: unknown, limit: number): number {
  const memo = new Map<object, number>();
  const open = new Set<object>();
  const stack: { node: object; children: unknown[]; next: number; total: number }[] = [];
  const enter = (node: unknown): number | undefined => {
    if (node === null || typeof node !== "object") return 1;
    const known = memo.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) return Infinity;
    open.add(node);
    stack.push({ node, children: Object.values(node), next: 0, total: 1 });
    return undefined;
  };
  let result = enter(value);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (result !== undefined) {
      top.total += result;
      result = undefined;
    }
    if (top.total > limit || top.next >= top.children.length) {
      stack.pop();
      open.delete(top.node);
      memo.set(top.node, top.total);
      result = top.total;
      continue;
    }
    result = enter(top.children[top.next++]);
  }
  return result ?? 1;
}
