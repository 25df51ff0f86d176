// Path patterns and their lookup tree. A pattern is a D-Bus object path whose elements may be:
//   a literal         'Dc', 'Soc', '0'
//   '#'               any element of digits only:            /Relay/#/State  → /Relay/1/State
//   'Prefix#'         the prefix followed by digits:          /Ac/L#/Power    → /Ac/L2/Power
//                                                             /Settings/Generator#/…  → Generator0
//   '*'               any one element:                        /ServiceMapping/*
// Every wildcard is captured, in order: the digits for '#' and 'Prefix#' ('2' for L2), the
// whole element for '*'. When several patterns match, the most specific
// wins element by element, from the left: a literal beats 'Prefix#', which beats '#', which
// beats '*'. Matching walks one tree node per path element and only backtracks between those
// alternatives, so its cost grows with the path's depth, not with the number of patterns.

export interface PatternMatch<T> {
  value: T;
  /** the path elements matched by the pattern's wildcards, in order */
  captures: string[];
}

/** Counts the work of matching (tree nodes visited), for tests and benchmarks. */
export interface MatchCounter {
  nodeVisits: number;
}

interface Prefixed<T> {
  prefix: string;
  node: PatternNode<T>;
}

class PatternNode<T> {
  literal: Map<string, PatternNode<T>> | undefined = undefined;
  /** 'Prefix#' children, longest prefix first; '#' is the empty prefix and comes last */
  prefixed: Prefixed<T>[] | undefined = undefined;
  any: PatternNode<T> | undefined = undefined;
  value: T | undefined = undefined;
  hasValue = false;
}

const DIGITS = /^\d+$/;

/** Splits '/a/b' into ['a', 'b']; undefined for anything that is not an absolute path below '/'. */
export function pathElements(path: string): string[] | undefined {
  if (path.length < 2 || path[0] !== '/' || path.endsWith('/')) return undefined;
  return path.slice(1).split('/');
}

export class PatternTree<T> {
  private readonly root = new PatternNode<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a pattern; throws on a malformed pattern or one that is already present. */
  add(pattern: string, value: T): void {
    const elements = pathElements(pattern);
    if (!elements || elements.some((e) => e === '')) throw new Error(`'${pattern}' is not a path pattern`);
    let node = this.root;
    for (const e of elements) node = childFor(node, e, pattern);
    if (node.hasValue) throw new Error(`pattern '${pattern}' is listed twice`);
    node.value = value;
    node.hasValue = true;
    this.count++;
  }

  match(path: string, counter?: MatchCounter): PatternMatch<T> | undefined {
    const elements = pathElements(path);
    if (!elements) return undefined;
    const captures: string[] = [];
    const node = walk(this.root, elements, 0, captures, counter);
    return node ? { value: node.value as T, captures } : undefined;
  }
}

function childFor<T>(node: PatternNode<T>, element: string, pattern: string): PatternNode<T> {
  if (element === '*') return (node.any ??= new PatternNode<T>());
  if (element.endsWith('#')) {
    const prefix = element.slice(0, -1);
    if (prefix.includes('#') || prefix.includes('*')) throw new Error(`bad element '${element}' in '${pattern}'`);
    node.prefixed ??= [];
    let entry = node.prefixed.find((p) => p.prefix === prefix);
    if (!entry) {
      entry = { prefix, node: new PatternNode<T>() };
      node.prefixed.push(entry);
      node.prefixed.sort((a, b) => b.prefix.length - a.prefix.length);
    }
    return entry.node;
  }
  if (element.includes('#') || element.includes('*')) throw new Error(`bad element '${element}' in '${pattern}'`);
  node.literal ??= new Map();
  let child = node.literal.get(element);
  if (!child) node.literal.set(element, (child = new PatternNode<T>()));
  return child;
}

function walk<T>(node: PatternNode<T>, elements: string[], i: number, captures: string[], counter?: MatchCounter): PatternNode<T> | undefined {
  if (counter) counter.nodeVisits++;
  if (i === elements.length) return node.hasValue ? node : undefined;
  const e = elements[i];
  const lit = node.literal?.get(e);
  if (lit) {
    const found = walk(lit, elements, i + 1, captures, counter);
    if (found) return found;
  }
  if (node.prefixed) {
    for (const p of node.prefixed) {
      if (e.length > p.prefix.length && e.startsWith(p.prefix) && DIGITS.test(e.slice(p.prefix.length))) {
        captures.push(e.slice(p.prefix.length));
        const found = walk(p.node, elements, i + 1, captures, counter);
        if (found) return found;
        captures.pop();
      }
    }
  }
  if (node.any) {
    captures.push(e);
    const found = walk(node.any, elements, i + 1, captures, counter);
    if (found) return found;
    captures.pop();
  }
  return undefined;
}
