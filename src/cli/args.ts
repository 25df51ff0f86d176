// The command-line parser shared by our commands: `--name value`, `--name=value`, `--flag`.
// Each command says which options it knows; anything else is a mistake that stops the command
// (exit status 2): a misspelt option must never be ignored, it may be the one that restricts
// writes (`--write-polcy none`).

/** A mistake on the command line: the command prints it with its usage and exits with 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  /** options that take a value */
  values: string[];
  /** options that take none */
  flags: string[];
  /** short forms: { '-h': 'help' } */
  short?: Record<string, string>;
  /** whether plain arguments (file names) are allowed */
  positional?: boolean;
}

export interface ParsedArgs {
  options: Map<string, string | true>;
  positional: string[];
}

export function parseArgs(argv: string[], spec: OptionSpec): ParsedArgs {
  const options = new Map<string, string | true>();
  const positional: string[] = [];
  const set = (name: string, v: string | true) => {
    if (options.has(name)) throw new UsageError(`--${name} is given twice`);
    options.set(name, v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const short = spec.short?.[a];
    if (short !== undefined) {
      if (spec.flags.includes(short)) set(short, true);
      else {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`${a} needs a value`);
        set(short, v);
      }
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    if (!a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.flags.includes(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      set(name, true);
    } else if (spec.values.includes(name)) {
      if (eq > 0) {
        set(name, a.slice(eq + 1));
        continue;
      }
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      set(name, v);
      i++;
    } else {
      const near = closest(name, [...spec.values, ...spec.flags]);
      throw new UsageError(`unknown option --${name}${near ? ` (did you mean --${near}?)` : ''}`);
    }
  }
  if (positional.length && !spec.positional) throw new UsageError(`unexpected argument '${positional[0]}'`);
  return { options, positional };
}

export function optString(p: ParsedArgs, name: string): string | undefined {
  const v = p.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function optNumber(p: ParsedArgs, name: string): number | undefined {
  const v = optString(p, name);
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, not '${v}'`);
  return n;
}

/** One of a fixed set of words, or the default. */
export function optChoice<T extends string>(p: ParsedArgs, name: string, choices: readonly T[], dflt: T): T {
  const v = optString(p, name);
  if (v === undefined) return dflt;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${choices.join(', ')}, not '${v}'`);
  return v as T;
}

/** The known option nearest to a misspelt one (at most 2 edits away). */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
