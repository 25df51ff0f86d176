// A small command-line parser shared by our commands: `--name value`, `--flag`, `--name=value`.

export interface ParsedArgs {
  options: Map<string, string | true>;
  positional: string[];
}

export function parseArgs(argv: string[], flags: string[] = []): ParsedArgs {
  const options = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      options.set(a.slice(2, eq), a.slice(eq + 1));
    } else if (flags.includes(a.slice(2))) {
      options.set(a.slice(2), true);
    } else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      options.set(a.slice(2), v);
      i++;
    }
  }
  return { options, positional };
}

export function optString(p: ParsedArgs, name: string): string | undefined {
  const v = p.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function optNumber(p: ParsedArgs, name: string): number | undefined {
  const v = optString(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, not '${v}'`);
  return n;
}
