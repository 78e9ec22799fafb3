/**
 * Which modules a plugin runner may load (issue 13, item 12).
 *
 * Deno loads local modules without asking the permission system: `--allow-read` does not
 * gate module loading, so a plugin with no grant could read any file by importing it
 * (`import key from "/data/tls/key.pem" with { type: "text" }`, a JSON module, or a dynamic
 * `import()` of any path, even a computed one or one from `eval`'d code). There is no flag
 * that scopes local imports, so the runner is started with an import map that sends every
 * `file:`, `http:` and `https:` URL to a folder that does not exist, except:
 *
 * - the folder of each plugin module (its own files);
 * - denomail's `plugins/` folder (the SDK, the runner, the shipped plugins),
 *   `mime/` (the MIME library the shipped plugins import) and `lib/` (the leaf helpers
 *   mime/ and the runner import: bytes, dates; code only, no data);
 * - `main.ts` itself (the worker mode's child starts there, see spawn.ts);
 * - the bare names in denomail's `deno.json` `imports` (the npm packages it declares).
 *
 * and inside those folders the data directory and the TLS files stay denied (a plugin kept
 * next to the data directory cannot import it). An import map is applied when every
 * specifier is resolved, static or dynamic, literal or computed, from a `data:` module or
 * an `eval` alike; and Deno refuses a specifier that climbs above its mapped prefix
 * (`./..%2f..%2fetc/passwd`). A denied import fails with "Module not found" naming
 * `DENIED_PREFIX`, so the reason is in the error.
 *
 * @module
 */
import { pathToFileURL } from "node:url";

/** Where denied specifiers are sent: a path that does not exist and says why. */
export const DENIED_PREFIX = "file:///denomail-plugin-import-denied/";

/** An import map (https://html.spec.whatwg.org/multipage/webappapis.html#import-maps). */
export interface ImportMap {
  imports: Record<string, string>;
}

/** denomail's own `deno.json` imports (bare name -> npm: specifier), read once. */
let declared: Record<string, string> | null = null;
function declaredImports(): Record<string, string> {
  if (declared) return declared;
  declared = {};
  try {
    const text = Deno.readTextFileSync(new URL("../../deno.json", import.meta.url));
    const imports = JSON.parse(text).imports ?? {};
    for (const [k, v] of Object.entries(imports)) {
      if (typeof v === "string" && v.startsWith("npm:")) declared[k] = v;
    }
  } catch { /* a compiled binary has no deno.json: its modules are built in */ }
  return declared;
}

/** A folder's file: URL with a trailing slash (import map prefix keys end in "/"). */
function folderUrl(path: string): string {
  const u = pathToFileURL(path).href;
  return u.endsWith("/") ? u : u + "/";
}

/**
 * The import map for a runner of `moduleUrls` (file: URLs). `deniedPaths` (absolute
 * paths: the data directory, TLS files) stay denied even inside an allowed folder.
 */
export function sandboxImportMap(moduleUrls: string[], deniedPaths: string[] = []): ImportMap {
  const imports: Record<string, string> = Object.create(null);
  imports["file:///"] = DENIED_PREFIX;
  imports["http://"] = `${DENIED_PREFIX}http/`;
  imports["https://"] = `${DENIED_PREFIX}https/`;
  const allow = (prefix: string) => imports[prefix] = prefix;
  for (const url of moduleUrls) {
    const folder = new URL("./", url).href;
    // A plugin at the root of the file system would open everything: allow only itself.
    if (folder === "file:///") allow(url);
    else allow(folder);
  }
  allow(new URL("../", import.meta.url).href);
  allow(new URL("../../mime/", import.meta.url).href);
  allow(new URL("../../lib/", import.meta.url).href);
  allow(new URL("../../main.ts", import.meta.url).href);
  for (const p of deniedPaths) {
    const file = pathToFileURL(p).href;
    imports[file] = DENIED_PREFIX + "x"; // the exact path
    imports[folderUrl(p)] = DENIED_PREFIX; // and, for a folder, what is under it
  }
  for (const [name, target] of Object.entries(declaredImports())) {
    imports[name] = target;
    // `mailauth/lib/x.js`: deno.json maps subpaths of an npm entry implicitly.
    imports[name + "/"] = `npm:/${target.slice(4)}/`;
  }
  return { imports };
}

/** The map as a `data:` URL for `--import-map` (no temp file to clean up). */
export function importMapUrl(map: ImportMap): string {
  return `data:application/json,${encodeURIComponent(JSON.stringify(map))}`;
}
