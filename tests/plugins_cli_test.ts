/** `denomail plugin list` and `plugin check PATH`, run as the real CLI. */
import assert from "node:assert/strict";
import { run } from "./harness.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

function cli(args: string[]) {
  return run(Deno.execPath(), ["run", "-A", MAIN, ...args], { check: false });
}

Deno.test("plugin CLI", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-plugin-cli-" });
  try {
    await t.step("check: a valid plugin prints its hooks", async () => {
      const r = await cli(["plugin", "check", fixture("hello.ts")]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /hello\.ts: ok, hooks: rcpt, data/);
    });
    await t.step("check: not a plugin -> exit 1 with the reason on one line", async () => {
      const r = await cli(["plugin", "check", fixture("not_a_plugin.ts")]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^denomail: plugin check: .*definePlugin/);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    });
    await t.step("list: configured plugins, hooks, grants, load errors", async () => {
      const cfg = `${dir}/denomail.toml`;
      await Deno.writeTextFile(
        cfg,
        `data_dir = "${dir}/data"\n` +
          `[[plugins]]\nname = "policy"\nmodule = "builtin:policy"\n` +
          `[[plugins]]\nname = "hello"\nmodule = "${fixture("hello.ts")}"\n` +
          `permissions = { net = ["127.0.0.1:53"], env = ["HOME"] }\n` +
          `[[plugins]]\nname = "broken"\nmodule = "${fixture("broken.ts")}"\n`,
      );
      const r = await cli(["plugin", "list", "--config", cfg]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n").map((l) => l.split("\t"));
      assert.deepEqual(lines[0], [
        "policy",
        "builtin:policy",
        "hooks=mail,rcpt,data",
        "permissions=none",
        "ok",
      ]);
      assert.deepEqual(lines[1].slice(2), [
        "hooks=rcpt,data",
        "permissions=net=127.0.0.1:53 env=HOME",
        "ok",
      ]);
      assert.equal(lines[2][0], "broken");
      assert.match(lines[2][4], /^ERROR .*broken at load time/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
