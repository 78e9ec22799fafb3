/**
 * The compiled binary cannot start esbuild, so `deno task compile` builds the web app
 * beforehand into `web/prebuilt/` (protocols/http/web/prebuild.ts) and the server serves that
 * build when the app's sources are absent, or when they are unchanged since it was made.
 * Here on a copy of `web/` in a temp folder (the checkout's own folder is never written).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadWebBundle, writePrebuilt } from "../protocols/http/web/bundle.ts";

const WEB = new URL("../web/", import.meta.url).pathname;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.name === "prebuilt") continue;
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

Deno.test("web app: a prebuilt build is served without esbuild, and never over edited sources", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "denomail-prebuilt-" });
  try {
    const root = join(tmp, "web");
    await copyTree(WEB, root);
    const out = await writePrebuilt(root);
    assert.equal(out, join(root, "prebuilt"));
    const built = await loadWebBundle(join(tmp, "cache-0"), root);
    assert.deepEqual(await entries(join(tmp, "cache-0")), [], "unchanged sources: prebuilt used");

    // The binary's case: only web/prebuilt/ is there.
    await Deno.remove(join(root, "src"), { recursive: true });
    const binary = await loadWebBundle(join(tmp, "cache-1"), root);
    assert.deepEqual(await entries(join(tmp, "cache-1")), [], "no build without sources");
    assert.deepEqual(binary.index.body, built.index.body);
    assert.ok(new TextDecoder().decode(binary.index.body).includes("/assets/main-"));
    assert.deepEqual([...binary.assets.keys()].sort(), [...built.assets.keys()].sort());
    assert.ok(!binary.assets.has(".digest"), "the digest file is not served");

    // A checkout whose sources changed after the prebuild builds afresh.
    await copyTree(join(WEB, "src"), join(root, "src"));
    const main = join(root, "src", "main.tsx");
    await Deno.writeTextFile(main, (await Deno.readTextFile(main)) + "\n// edited\n");
    const fresh = await loadWebBundle(join(tmp, "cache-2"), root);
    assert.equal((await entries(join(tmp, "cache-2"))).filter((n) => !n.startsWith(".")).length, 1);
    assert.ok(new TextDecoder().decode(fresh.index.body).includes("/assets/main-"));

    // Neither sources nor a prebuilt app: a clear error (the route answers 503 and logs it).
    await Deno.remove(join(root, "src"), { recursive: true });
    await Deno.remove(out, { recursive: true });
    await assert.rejects(loadWebBundle(join(tmp, "cache-3"), root), /no prebuilt app/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
