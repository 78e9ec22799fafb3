/**
 * The compiled binary runs plugins through its hidden `__plugin-runner` mode (a Worker with
 * the grant as its permissions inside a child process): `deno task compile` (its exact
 * flags from deno.json, output in a temp dir) must give a binary whose `plugin check` loads
 * a shipped plugin and a fixture, and whose sandbox still denies what was not granted.
 *
 * `deno compile` downloads the `denort` runtime on first use and takes long, so this test
 * runs only with DENOMAIL_TEST_COMPILE=1. The same worker mode is tested from source in
 * plugins_sandbox_test.ts on every run.
 */
import assert from "node:assert/strict";
import { run } from "./harness.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

Deno.test({
  name: "compiled binary: plugin check and plugin test in the worker sandbox",
  ignore: Deno.env.get("DENOMAIL_TEST_COMPILE") !== "1",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "denomail-compile-" });
    try {
      const bin = `${dir}/denomail`;
      await t.step("deno task compile builds the binary", async () => {
        const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
        const task: string = deno.tasks.compile;
        // Its steps: the web app's prebuild, then `deno compile` (output moved to the temp dir).
        const steps = task.split("&&").map((step) =>
          step.trim().split(/\s+/).slice(1).map((a) => a === "denomail" ? bin : a)
        );
        assert.ok(steps.at(-1)!.includes(bin), `the compile task names its output: ${task}`);
        for (const args of steps) {
          const r = await run(Deno.execPath(), args, { check: false, cwd: ROOT });
          assert.equal(r.code, 0, r.stderr);
        }
      });

      await t.step("plugin check: a shipped plugin and a fixture", async () => {
        const shipped = await run(bin, ["plugin", "check", "builtin:policy"], { check: false });
        assert.equal(shipped.code, 0, shipped.stderr);
        assert.match(shipped.stdout, /^builtin:policy: ok, hooks: mail, rcpt, data/);
        const own = await run(bin, ["plugin", "check", fixture("hello.ts")], { check: false });
        assert.equal(own.code, 0, own.stderr);
        assert.match(own.stdout, /hello\.ts: ok, hooks: rcpt, data/);
      });

      await t.step("plugin test: what was not granted is denied inside the binary", async () => {
        const eml = `${dir}/m.eml`;
        await Deno.writeTextFile(eml, "Subject: x\r\n\r\nx\r\n");
        const r = await run(bin, [
          "plugin",
          "test",
          fixture("hostile.ts"),
          "--eml",
          eml,
          "--to",
          "passwd@example.test",
        ], { check: false });
        assert.match(
          r.stdout,
          /rcpt <passwd@example\.test>: reject {2}550 5\.7\.1 denied NotCapable/,
        );
      });

      await t.step("plugin test: imports of files outside the plugin are not loaded", async () => {
        // The binary has no import map: it must load no module that was not built into it.
        const eml = `${dir}/m.eml`;
        const rcpts = ["importtext", "importjson", "importcomputed"].map((m) =>
          `${m}@example.test`
        );
        const r = await run(bin, [
          "plugin",
          "test",
          fixture("hostile.ts"),
          "--eml",
          eml,
          "--to",
          rcpts.join(","),
        ], { check: false });
        assert.doesNotMatch(r.stdout, /LEAK/);
        for (const rc of rcpts) {
          assert.match(r.stdout, new RegExp(`<${rc}>: reject {2}550 5\\.7\\.1 denied`));
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
