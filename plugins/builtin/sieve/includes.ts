/**
 * Fetching the scripts a script includes (RFC 6609), before the run: breadth first from
 * the active script, each (location, name) once, at most {@link MAX_INCLUDED} of them, so
 * a loop of includes costs a bounded number of reads; the evaluator finds loops and
 * missing scripts at run time (eval.ts) and keeps the message.
 *
 * @module
 */
import type { Resolve } from "./eval.ts";
import type { Script } from "./tree.ts";

export const MAX_INCLUDED = 32;

/** Fetches and compiles every script reachable through include; returns the resolver. */
export async function loadIncludes(
  root: Script,
  fetch: (global: boolean, name: string) => Promise<string | null>,
  compile: (source: string) => Script,
): Promise<Resolve> {
  const found = new Map<string, Script | null | Error>();
  const queue = [...root.includes];
  while (queue.length > 0 && found.size < MAX_INCLUDED) {
    const inc = queue.shift()!;
    const key = `${inc.global ? "global" : "personal"}:${inc.name}`;
    if (found.has(key)) continue;
    let script: Script | null | Error;
    try {
      const source = await fetch(inc.global, inc.name);
      script = source === null ? null : compile(source);
    } catch (e) {
      script = e instanceof Error ? e : new Error(String(e));
    }
    found.set(key, script);
    if (script && !(script instanceof Error)) queue.push(...script.includes);
  }
  return (global, name) => {
    const key = `${global ? "global" : "personal"}:${name}`;
    return found.has(key)
      ? found.get(key)!
      : new Error(`more than ${MAX_INCLUDED} included scripts`);
  };
}
