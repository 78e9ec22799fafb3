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
          `[[plugins]]\nname = "broken"\nmodule = "${fixture("broken.ts")}"\n` +
          `[[plugins]]\nname = "reader"\nmodule = "${fixture("reads_at_load.ts")}"\n`,
      );
      const r = await cli(["plugin", "list", "--config", cfg]);
      assert.equal(r.code, 1, "a plugin that failed to load makes list exit 1");
      assert.match(r.stderr, /^denomail: plugin list: 2 of 4 failed\n$/);
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
      // A sandbox refusal names the permissions key to set, not a deno flag.
      assert.match(
        lines[3][4],
        /^ERROR .*plugin "reader" was refused read access to \/etc\/denomail-probe\.txt; to allow it add permissions\.read = \["\/etc\/denomail-probe\.txt"\] to its \[\[plugins\]\] entry/,
      );
      assert.doesNotMatch(lines[3][4], /--allow-read/);
    });
    await t.step("test: replays a message and prints each hook's verdict", async () => {
      const eml = `${dir}/m.eml`;
      await Deno.writeTextFile(eml, "Subject: replay me\r\nFrom: a@example.org\r\n\r\nhi\r\n");
      const r = await cli([
        "plugin",
        "test",
        fixture("hello.ts"),
        "--eml",
        eml,
        "--from",
        "a@example.org",
        "--to",
        "x@blocked.test,y@example.test",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.deepEqual(lines.slice(0, 3), [
        "plugin hello (no grants: permissions=none)",
        "rcpt <x@blocked.test>: reject  550 5.7.1 blocked.test is not welcome  by hello",
        "rcpt <y@example.test>: continue",
      ]);
      assert.match(
        lines[3],
        /^data: continue {2}score=1 {2}\+header X-Hello-Plugin: seen 2 rcpt, subject=replay me {2}message changed \(\d+ bytes\)$/,
      );
      assert.equal(lines.length, 4);
    });
    await t.step("test: a configured plugin's options and grants are used", async () => {
      const eml = `${dir}/m.eml`;
      const cfg = `${dir}/policy.toml`;
      await Deno.writeTextFile(
        cfg,
        `data_dir = "${dir}/data"\n[[plugins]]\nname = "pol"\nmodule = "builtin:policy"\n` +
          `options = { max_recipients = 1, block_senders = ["@spam.test"] }\n`,
      );
      const r = await cli([
        "plugin",
        "test",
        "builtin:policy",
        "--config",
        cfg,
        "--eml",
        eml,
        "--from",
        "x@spam.test",
        "--to",
        "a@example.test,b@example.test",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines[0], "plugin pol (grants and options from the config: permissions=none)");
      assert.match(lines[1], /^mail: reject {2}550 5\.7\.1 .* by pol$/);
      assert.match(lines[3], /^rcpt <b@example\.test>: tempfail {2}452 4\.5\.3 /);
    });
    await t.step("test: a failing hook is shown and exits 1", async () => {
      const eml = `${dir}/m.eml`;
      const r = await cli([
        "plugin",
        "test",
        fixture("hostile.ts"),
        "--eml",
        eml,
        "--to",
        "throw@example.test",
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stdout,
        /^rcpt <throw@example\.test>: tempfail .*ERROR\(hostile\) hook threw/m,
      );
      assert.match(r.stderr, /^denomail: plugin test: 1 hook call\(s\) failed/);
    });
    await t.step("test: a sandbox refusal in a hook names the permissions key", async () => {
      const eml = `${dir}/m.eml`;
      await Deno.writeTextFile(eml, "Subject: x\r\n\r\nhi\r\n");
      const r = await cli([
        "plugin",
        "test",
        fixture("reads_in_hook.ts"),
        "--eml",
        eml,
        "--to",
        "a@example.test",
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stdout,
        /ERROR\(\S+\) hook threw: NotCapable: plugin "\S+" was refused read access to \/etc\/denomail-probe\.txt; to allow it add permissions\.read = \["\/etc\/denomail-probe\.txt"\]/,
      );
      assert.doesNotMatch(r.stdout, /--allow-read/);
    });
    await t.step("new: a skeleton plugin check accepts and whose test passes", async () => {
      for (
        const [path, hooks, mod] of [
          [`${dir}/skel.ts`, ["--hooks", "rcpt,data,bounced"], `${dir}/skel.ts`],
          [`${dir}/skeldir`, [], `${dir}/skeldir/mod.ts`],
        ] as const
      ) {
        const made = await cli(["plugin", "new", path, ...hooks]);
        assert.equal(made.code, 0, made.stderr);
        const test = mod.replace(/\.ts$/, "_test.ts");
        assert.match(made.stdout, new RegExp(`^wrote ${test}`, "m"));
        const checked = await cli(["plugin", "check", mod]);
        assert.equal(checked.code, 0, checked.stderr);
        assert.match(
          checked.stdout,
          hooks.length ? /: ok, hooks: rcpt, data, bounced$/m : /: ok, hooks: data$/m,
        );
        // Typed as written, and formatted as `deno fmt` would.
        const typed = await run(Deno.execPath(), ["check", mod], { check: false });
        assert.equal(typed.code, 0, typed.stderr);
        const fmt = await run(Deno.execPath(), ["fmt", "--check", mod, test], { check: false });
        assert.equal(fmt.code, 0, fmt.stderr);
        // Its own test runs it through `plugin check` and `plugin test`.
        const tested = await run(Deno.execPath(), ["test", "--allow-all", test], { check: false });
        assert.equal(tested.code, 0, tested.stdout + tested.stderr);
        assert.match(tested.stdout, /2 passed/);
      }
      const again = await cli(["plugin", "new", `${dir}/skel.ts`]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /exists \(nothing was overwritten\)/);
      const bad = await cli(["plugin", "new", `${dir}/other.ts`, "--hooks", "data,nope"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--hooks: unknown hook nope/);
    });
    await t.step("test: usage errors exit 2", async () => {
      const r = await cli(["plugin", "test", fixture("hello.ts"), "--to", "a@b.test"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /missing --eml/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
