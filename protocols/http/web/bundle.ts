/**
 * Builds the webmail (the JMAP client in `web/`, preact + DOMPurify) and the admin console
 * (`web/src/admin.tsx`, same sign-in and look) with esbuild in one build when the server
 * first serves them, so that `deno task start` on a fresh clone needs no build step.
 *
 * Invariants:
 * - The output lives in `<data_dir>/web/<digest>/`, where the digest covers every source file
 *   under `web/` and the exact package versions: a changed source or dependency gets a new
 *   folder, an unchanged one is reused across restarts. Nothing built is committed.
 * - A folder appears only complete (built in a temp folder, then renamed into place), so two
 *   servers sharing a data_dir never serve half a bundle.
 * - Asset names carry a content hash (esbuild's `[hash]`), so they may be cached forever.
 * - `deno task compile` builds once beforehand into `web/prebuilt/` (git-ignored; see
 *   prebuild.ts) and puts that folder into the binary, which cannot start esbuild's native
 *   program from inside itself. A prebuilt folder is used when the sources are absent (the
 *   binary) or when its recorded digest matches them (a checkout that compiled, unchanged);
 *   an edited source tree always builds afresh.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";
// The web app's packages, imported here only so that Deno fetches them into its npm cache,
// where esbuild finds them through require.resolve (the server never calls them).
import "preact";
import "preact/hooks";
import "preact/jsx-runtime";
import "dompurify";

/** One file the web listeners serve. */
export interface WebAsset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  /** A strong ETag (quoted SHA-256 prefix of the body). */
  etag: string;
}

/** The built apps: the webmail's page, the admin console's, and their hashed assets by file name. */
export interface WebBundle {
  index: WebAsset;
  admin: WebAsset;
  assets: ReadonlyMap<string, WebAsset>;
}

const WEB_ROOT = fileURLToPath(new URL("../../../web/", import.meta.url));
/** The build `deno task compile` makes beforehand (in `<root>/prebuilt/`), with the digest of its sources. */
const prebuiltDir = (root: string) => join(root, "prebuilt");
const PREBUILT_DIGEST = ".digest";
/** Packages the app may import by bare name (everything else is relative). */
const PACKAGES = /^(preact|dompurify)(\/.*)?$/;
const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
  svg: "image/svg+xml",
};

function asset(body: Uint8Array<ArrayBuffer>, name: string): WebAsset {
  const ext = name.slice(name.lastIndexOf(".") + 1);
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, type: TYPES[ext] ?? "application/octet-stream", etag };
}

/**
 * Every source file under web/ (relative path, bytes), in a stable order, or null when the
 * app's sources are not there (the compiled binary carries only `web/prebuilt/`).
 */
async function sources(root: string): Promise<Array<[string, Uint8Array]> | null> {
  try {
    await Deno.stat(join(root, "src", ENTRIES.main));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const out: Array<[string, Uint8Array]> = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (path === prebuiltDir(root)) continue;
      if (e.isDirectory) await walk(path);
      else if (e.isFile) out.push([relative(root, path), await Deno.readFile(path)]);
    }
  };
  await walk(root);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** The digest naming a build: sources, resolved package paths (they hold the versions). */
function digest(files: Array<[string, Uint8Array]>, resolved: string[]): string {
  const h = createHash("sha256").update(esbuild.version);
  for (const r of resolved) h.update(`\0${r}`);
  for (const [name, body] of files) h.update(`\0${name}\0`).update(body);
  return h.digest("hex").slice(0, 16);
}

type NodeRequire = ReturnType<typeof createRequire>;

/** The two apps: esbuild entry name -> source, and the page each gets. */
const ENTRIES = { main: "main.tsx", admin: "admin.tsx" } as const;
const PAGES = { main: "index.html", admin: "admin.html" } as const;

/** Runs esbuild over the entries; returns file name -> bytes (the two pages included). */
async function build(
  require: NodeRequire,
  root: string,
): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(
      Object.entries(ENTRIES).map(([name, file]) => [name, join(root, "src", file)]),
    ),
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    entryNames: "[name]-[hash]",
    outdir: "/assets",
    legalComments: "none",
    logLevel: "silent",
    plugins: [{
      name: "deno-npm",
      setup(b) {
        b.onResolve({ filter: PACKAGES }, (args) => ({ path: require.resolve(args.path) }));
      },
    }],
  });
  // esbuild keeps a helper process alive between builds; this server builds once.
  await esbuild.stop();
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const f of result.outputFiles) {
    files.set(f.path.slice("/assets/".length), new Uint8Array(f.contents));
  }
  const template = await Deno.readTextFile(join(root, "index.html"));
  for (const name of Object.keys(ENTRIES) as Array<keyof typeof ENTRIES>) {
    const output = (ext: string) =>
      [...files.keys()].find((n) => n.startsWith(`${name}-`) && n.endsWith(ext));
    const js = output(".js");
    const css = output(".css");
    if (!js || !css) throw new Error(`web build produced no script or stylesheet for ${name}`);
    let page = template.replace("{{SCRIPT}}", `/assets/${js}`).replace(
      "{{STYLE}}",
      `/assets/${css}`,
    );
    if (name === "admin") {
      page = page.replace("<title>denomail</title>", "<title>denomail admin</title>");
    }
    files.set(PAGES[name], new TextEncoder().encode(page));
  }
  return files;
}

/** Reads a finished build folder, or null when there is none. */
async function readBuild(dir: string): Promise<Map<string, Uint8Array<ArrayBuffer>> | null> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile) files.set(e.name, await Deno.readFile(join(dir, e.name)));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return Object.values(PAGES).every((p) => files.has(p)) ? files : null;
}

/** The packages' resolved paths (they hold the versions) and the digest of the sources. */
function currentDigest(require: NodeRequire, files: Array<[string, Uint8Array]>): string {
  const resolved = ["preact", "preact/hooks", "preact/jsx-runtime", "dompurify"].map((p) =>
    require.resolve(p)
  );
  return digest(files, resolved);
}

/** The prebuilt app, when it may be used (see the module's invariants), else null. */
async function usablePrebuilt(
  root: string,
  sourceDigest: string | null,
): Promise<Map<string, Uint8Array<ArrayBuffer>> | null> {
  const files = await readBuild(prebuiltDir(root));
  if (!files) return null;
  const recorded = new TextDecoder().decode(files.get(PREBUILT_DIGEST) ?? new Uint8Array());
  files.delete(PREBUILT_DIGEST);
  return sourceDigest === null || recorded.trim() === sourceDigest ? files : null;
}

/**
 * Builds the app into `web/prebuilt/` (replacing what was there) for `deno task compile`;
 * returns the folder.
 */
export async function writePrebuilt(root = WEB_ROOT): Promise<string> {
  const require = createRequire(import.meta.url);
  const src = await sources(root);
  if (!src) throw new Error(`no web app sources under ${join(root, "src")}`);
  const files = await build(require, root);
  const out = prebuiltDir(root);
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  for (const [name, body] of files) await Deno.writeFile(join(out, name), body);
  await Deno.writeTextFile(join(out, PREBUILT_DIGEST), currentDigest(require, src));
  return out;
}

/** The built app, from `<cacheRoot>/<digest>/`, building it first when missing or stale. */
export async function loadWebBundle(cacheRoot: string, root = WEB_ROOT): Promise<WebBundle> {
  const require = createRequire(import.meta.url);
  const src = await sources(root);
  const sourceDigest = src ? currentDigest(require, src) : null;
  let files = await usablePrebuilt(root, sourceDigest);
  if (!files && sourceDigest === null) {
    throw new Error(`no web app sources under ${root} and no prebuilt app`);
  }
  const dir = join(cacheRoot, sourceDigest ?? "prebuilt");
  files ??= await readBuild(dir);
  if (!files) {
    files = await build(require, root);
    await Deno.mkdir(cacheRoot, { recursive: true });
    const tmp = await Deno.makeTempDir({ dir: cacheRoot, prefix: ".build-" });
    for (const [name, body] of files) await Deno.writeFile(join(tmp, name), body);
    try {
      await Deno.rename(tmp, dir);
    } catch {
      // Another server finished the same build first: theirs is identical.
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }
  const assets = new Map<string, WebAsset>();
  const pages = new Set<string>(Object.values(PAGES));
  for (const [name, body] of files) if (!pages.has(name)) assets.set(name, asset(body, name));
  return {
    index: asset(files.get(PAGES.main)!, PAGES.main),
    admin: asset(files.get(PAGES.admin)!, PAGES.admin),
    assets,
  };
}
