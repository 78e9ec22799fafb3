/**
 * `denomail spam train|classify` as a subprocess: training from a folder, an mbox and a
 * Maildir into the global or a user's counts, the same kv area the plugin reads, the
 * tab-separated and JSON output of classify, and usage errors (exit 2).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./lib/server_process.ts";
import { configFromObject } from "../core/config.ts";
import { openConfiguredStore } from "../app/store.ts";
import { readMbox } from "../core/mailfiles.ts";

const FIX = new URL("./fixtures/spam/", import.meta.url);
const fixturePath = (name: string) => new URL(name, FIX).pathname;

Deno.test("spam CLI: train and classify", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-spamcli-" });
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(
    config,
    `data_dir = "${dir}/data"\n\n[[plugins]]\nname = "spam"\nmodule = "builtin:spam"\n` +
      `options = { bayes_min_learned = 3, junk_score = 4 }\n`,
  );
  const run = (...args: string[]) => cli(["spam", ...args, "--config", config]);
  // The ham fixtures as an mbox (one with a ">From " quoted line), the spam ones as a Maildir.
  const mbox = join(dir, "ham.mbox");
  const hamFiles = [...Deno.readDirSync(fixturePath("ham"))].map((e) => e.name).sort();
  await Deno.writeTextFile(
    mbox,
    hamFiles.map((f) =>
      `From someone@example.test Tue Jun  3 10:00:00 2025\n` +
      Deno.readTextFileSync(join(fixturePath("ham"), f)).replaceAll("\r\n", "\n") +
      "\n>From the archive.\n\n"
    ).join(""),
  );
  const maildir = join(dir, "Spam");
  await Deno.mkdir(join(maildir, "cur"), { recursive: true });
  await Deno.mkdir(join(maildir, "new"));
  await Deno.mkdir(join(maildir, "tmp"));
  for (const e of Deno.readDirSync(fixturePath("spam"))) {
    await Deno.copyFile(join(fixturePath("spam"), e.name), join(maildir, "cur", `${e.name}:2,S`));
  }
  try {
    await t.step("mbox reader splits messages and undoes >From quoting", async () => {
      const msgs = [];
      for await (const m of readMbox(mbox)) msgs.push(new TextDecoder().decode(m.bytes));
      assert.equal(msgs.length, hamFiles.length);
      assert.match(msgs[0], /^From: Alice/);
      assert.match(msgs[0], /\nFrom the archive\.\n/);
    });
    await t.step("train from a Maildir (spam) and an mbox (ham)", async () => {
      const r = await run("train", "--spam", maildir, "--ham", mbox);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /learned 8 spam and 8 ham into the global counts; now 8 spam/);
      // Again: nothing new.
      const again = await run("train", "--spam", maildir);
      assert.match(again.stdout, /learned 0 spam and 0 ham, 8 already known/);
    });
    await t.step("classify: FILE<TAB>SCORE<TAB>verdict<TAB>RULES", async () => {
      const spam = fixturePath("spam/01.eml");
      const ham = fixturePath("ham/01.eml");
      const r = await run("classify", spam, ham);
      assert.equal(r.code, 0, r.stderr);
      const [a, b] = r.stdout.trim().split("\n").map((l) => l.split("\t"));
      assert.equal(a[0], spam);
      assert.equal(a[2], "spam");
      assert.match(a[3], /BAYES_9/);
      assert.ok(Number(a[1]) >= 4);
      assert.equal(b[2], "ham");
      assert.ok(Number(b[1]) < Number(a[1]));
    });
    await t.step("classify --json: one object per line", async () => {
      const r = await run("classify", "--json", fixturePath("rules/exe_attachment.eml"));
      const o = JSON.parse(r.stdout.trim());
      assert.deepEqual(Object.keys(o), [
        "file",
        "score",
        "required",
        "verdict",
        "rules",
        "bayes",
        "linear",
        "report",
      ]);
      assert.ok(o.rules.includes("SUSPICIOUS_ATTACHMENT"));
      // A rule besides the models scored it: junk from junk_score, 4 here (score.ts requiredScore).
      assert.equal(o.required, 4);
      // The same explanation as X-Spam-Report: each rule with its score and meaning.
      const exe = o.report.find((e: { rule: string }) => e.rule === "SUSPICIOUS_ATTACHMENT");
      assert.deepEqual(exe, {
        rule: "SUSPICIOUS_ATTACHMENT",
        score: 3,
        about: "executable or script attachment",
      });
    });
    await t.step(
      "train a user's counts from a folder; the plugin's kv area holds them",
      async () => {
        const store = await openConfiguredStore(configFromObject({ data_dir: `${dir}/data` }, dir));
        await store.createAccount("u@example.test", "x");
        await store.close();
        const r = await run("train", "--ham", fixturePath("ham"), "--user", "u@example.test");
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /learned 0 spam and 8 ham into u@example.test/);
        const check = await openConfiguredStore(configFromObject({ data_dir: `${dir}/data` }, dir));
        try {
          assert.notEqual(await check.kvGet("plugin:spam", "n:u:u@example.test"), null);
          assert.notEqual(await check.kvGet("plugin:spam", "n:g"), null);
        } finally {
          await check.close();
        }
      },
    );
    await t.step("classify --user sees the user's own lists in the kv", async () => {
      const file = fixturePath("ham/01.eml");
      const rulesOf = async () => (await run("classify", file, "--user", "u@example.test")).stdout;
      assert.doesNotMatch(await rulesOf(), /USER_BLOCKLIST/);
      const from =
        /^From: Alice <(alice@colleagues\.example)>/m.exec(Deno.readTextFileSync(file))![1];
      const store = await openConfiguredStore(configFromObject({ data_dir: `${dir}/data` }, dir));
      await store.kvSet(
        "plugin:spam",
        "lists:u@example.test",
        JSON.stringify({ allow: [], block: [from.toLowerCase()] }),
      );
      await store.close();
      assert.match(await rulesOf(), /\tspam\t.*USER_BLOCKLIST/);
    });
    await t.step("usage errors exit 2", async () => {
      assert.equal((await run("train")).code, 2);
      assert.equal((await run("train", "--spam", join(dir, "nope"))).code, 2);
      assert.equal((await run("train", "--ham", mbox, "--user", "nobody@example.test")).code, 2);
      assert.equal((await run("classify")).code, 2);
      assert.equal((await run("frobnicate")).code, 2);
      const missing = await run("classify", join(dir, "missing.eml"));
      assert.equal(missing.code, 1);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
