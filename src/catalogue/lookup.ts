// Path lookups in the catalogue. The data file is read on the first lookup, not at require time,
// and every answer is kept (up to MEMO_LIMIT paths), so repeated lookups of the same path cost
// one Map access and return the same descriptor object.
import { CATALOGUE_FILE, readCatalogueData } from './catalogue-data';
import { CompiledEntry, compileEnum, EnumTable, PathDescriptor } from './descriptor';
import { MatchCounter, PatternTree } from './path-pattern';

/** The entries every service may have (/ProductName, /Connected …), looked up after the type's own. */
const GENERIC = '*';
const SERVICE_PREFIX = 'com.victronenergy.';
/** Paths whose answers are kept; past it lookups still work, they are only not kept. */
export const MEMO_LIMIT = 20000;

interface CompiledType {
  label: string;
  tree: PatternTree<CompiledEntry>;
}

interface Loaded {
  types: Map<string, CompiledType>;
  generic: CompiledType | undefined;
  sources: Record<string, string>;
  enumCount: number;
  entryCount: number;
  loadError: string | undefined;
  /** type → path → descriptor, or null for a path the catalogue does not know */
  memo: Map<string, Map<string, PathDescriptor | null>>;
  memoSize: number;
}

export interface CatalogueInfo {
  file: string;
  /** path patterns in the catalogue, the generic ones included */
  entries: number;
  /** service types with their own entries */
  serviceTypes: string[];
  enums: number;
  /** source code → description */
  sources: Record<string, string>;
  /** why the data file could not be used (every lookup then answers undefined) */
  loadError?: string;
}

/** Work done so far, for tests and benchmarks: lookups not answered from the memo, tree nodes walked. */
export interface CatalogueStats {
  resolutions: number;
  nodeVisits: number;
  memoEntries: number;
}

let loaded: Loaded | undefined;
const counter: MatchCounter & { resolutions: number } = { nodeVisits: 0, resolutions: 0 };

function catalogue(): Loaded {
  return (loaded ??= load());
}

function emptyCatalogue(): Loaded {
  return { types: new Map(), generic: undefined, sources: {}, enumCount: 0, entryCount: 0, loadError: undefined, memo: new Map(), memoSize: 0 };
}

function load(): Loaded {
  const empty = emptyCatalogue();
  try {
    const data = readCatalogueData();
    const enums = new Map<string, EnumTable>();
    for (const [name, table] of Object.entries(data.enums)) enums.set(name, compileEnum(table));
    const sourceLists = new Map<string, readonly string[]>();
    const sourcesOf = (flags: string): readonly string[] => {
      const codes = flags.replace('W', '');
      let list = sourceLists.get(codes);
      if (!list) sourceLists.set(codes, (list = Object.freeze([...codes].map((c) => data.sources[c]))));
      return list;
    };
    for (const [type, td] of Object.entries(data.types)) {
      const tree = new PatternTree<CompiledEntry>();
      for (const [pattern, raw] of Object.entries(td.paths)) {
        tree.add(pattern, new CompiledEntry(raw, raw[3] === undefined ? undefined : enums.get(raw[3]), sourcesOf(raw[2])));
      }
      const compiled = { label: td.label, tree };
      if (type === GENERIC) empty.generic = compiled;
      else empty.types.set(type, compiled);
      empty.entryCount += tree.size;
    }
    empty.sources = data.sources;
    empty.enumCount = enums.size;
    return empty;
  } catch (err) {
    return { ...emptyCatalogue(), loadError: `${CATALOGUE_FILE}: ${(err as Error).message}` };
  }
}

/** The short type of each name seen (a GX has tens of services), so lookups allocate nothing. */
const shortTypes = new Map<string, string>();
const SHORT_TYPES_LIMIT = 4096;

/** 'battery' from 'battery' or from a D-Bus name such as 'com.victronenergy.battery.ttyO0'. */
export function shortType(serviceType: string): string {
  let type = shortTypes.get(serviceType);
  if (type === undefined) {
    type = serviceType.startsWith(SERVICE_PREFIX) ? serviceType.slice(SERVICE_PREFIX.length).split('.')[0] : serviceType;
    if (shortTypes.size < SHORT_TYPES_LIMIT) shortTypes.set(serviceType, type);
  }
  return type;
}

/**
 * What the catalogue knows of a path of a service type ('battery', 'vebus', or the service's
 * D-Bus name): label, unit, enumeration, whether it is meant to be written. undefined for a path
 * (or type) the catalogue does not list: callers then show the path and value as they are.
 */
export function describePath(serviceType: string, path: string): PathDescriptor | undefined {
  if (typeof serviceType !== 'string' || typeof path !== 'string') return undefined;
  const c = catalogue();
  const type = shortType(serviceType);
  let byPath = c.memo.get(type);
  const known = byPath?.get(path);
  if (known !== undefined) return known ?? undefined;
  counter.resolutions++;
  const d = resolve(c, type, path);
  if (c.memoSize < MEMO_LIMIT) {
    if (!byPath) c.memo.set(type, (byPath = new Map()));
    byPath.set(path, d ?? null);
    c.memoSize++;
  }
  return d;
}

function resolve(c: Loaded, type: string, path: string): PathDescriptor | undefined {
  const own = c.types.get(type)?.tree.match(path, counter);
  if (own) return own.value.describe(own.captures);
  const generic = c.generic?.tree.match(path, counter);
  return generic ? generic.value.describe(generic.captures) : undefined;
}

/** The name of an enumeration value ('Bulk' for vebus /State 3); undefined when not listed. */
export function enumName(serviceType: string, path: string, value: unknown): string | undefined {
  return describePath(serviceType, path)?.enum?.(value);
}

/** The kind of device a service type is ('battery' → 'Battery'); undefined for an unknown type. */
export function serviceTypeLabel(serviceType: string): string | undefined {
  if (typeof serviceType !== 'string') return undefined;
  return catalogue().types.get(shortType(serviceType))?.label;
}

export function catalogueInfo(): CatalogueInfo {
  const c = catalogue();
  const info: CatalogueInfo = {
    file: CATALOGUE_FILE, entries: c.entryCount, serviceTypes: [...c.types.keys()], enums: c.enumCount, sources: { ...c.sources },
  };
  if (c.loadError !== undefined) info.loadError = c.loadError;
  return info;
}

export function catalogueStats(): CatalogueStats {
  return { resolutions: counter.resolutions, nodeVisits: counter.nodeVisits, memoEntries: loaded?.memoSize ?? 0 };
}
