/**
 * A small strict argv parser: known flags only, so a typo exits 2 naming it.
 *
 * @module
 */

/** Bad command-line usage: the CLI prints the message and exits 2 (shared with the admin API). */
export { UsageError } from "../core/admin/errors.ts";
import { UsageError } from "../core/admin/errors.ts";

export interface FlagSpec {
  /** Flags that take a value: "--config FILE" or "--config=FILE". */
  values?: string[];
  /** Boolean flags. */
  booleans?: string[];
}

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string>;
  booleans: Set<string>;
}

/** Parses argv against the spec; unknown flags throw UsageError naming the flag. */
export function parseArgs(argv: string[], spec: FlagSpec): ParsedArgs {
  const values = new Map<string, string>();
  const booleans = new Set<string>();
  const positional: string[] = [];
  const valueFlags = new Set(spec.values ?? []);
  const boolFlags = new Set([...(spec.booleans ?? []), "--help", "-h"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (valueFlags.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option ${name} needs a value`);
        values.set(name, v);
      } else if (boolFlags.has(name) && eq < 0) {
        booleans.add(name === "-h" ? "--help" : name);
      } else {
        throw new UsageError(`unknown option ${name}`);
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, values, booleans };
}
