/**
 * builtin:policy through the real plugin host and store: allow/block lists, rate limits
 * per sender and per IP, maximum recipients, blocked attachment types.
 */
import assert from "node:assert/strict";
import { configFromObject } from "../core/config.ts";
import { type HookInput, PluginHost } from "../plugins/engine/host.ts";
import { attachmentNames, matches } from "../plugins/builtin/policy/mod.ts";
import { openConfiguredStore } from "../app/store.ts";

const addr = (a: string) => {
  const at = a.lastIndexOf("@");
  return { address: a, local: a.slice(0, at), domain: a.slice(at + 1) };
};
const session = (ip = "192.0.2.1") => ({ id: "p1", remoteIp: ip, tls: false });

Deno.test("policy: pure helpers", () => {
  assert.equal(matches("a@Sub.Spam.example", ["@spam.example"]), true);
  assert.equal(matches("a@spam.example", ["spam.example"]), true);
  assert.equal(matches("a@notspam.example", ["@spam.example"]), false);
  assert.equal(matches("a@b.test", ["a@b.test"]), true);
  assert.equal(matches("c@b.test", ["a@b.test"]), false);
  assert.deepEqual(
    attachmentNames(
      'Content-Type: application/octet-stream;\r\n name="run.EXE"\r\n' +
        "Content-Disposition: attachment; filename=notes.txt\r\n\r\nfilename=body.exe\r\n",
    ),
    ["run.EXE", "notes.txt"],
  );
});

Deno.test("policy plugin through the host", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-policy-" });
  const config = configFromObject({
    data_dir: dir,
    plugins: [{
      name: "policy",
      module: "builtin:policy",
      options: {
        max_recipients: 2,
        sender_rate: { max: 2, per: "1h" },
        ip_rate: { max: 3, per: "1h" },
        block_attachments: ["exe", ".scr"],
        block_senders: ["@spam.example"],
        allow_senders: ["boss@example.com"],
        block_recipients: ["noreply@example.test"],
        allow_recipients: ["postmaster@example.test"],
      },
    }],
  }, dir);
  const store = await openConfiguredStore(config);
  const host = await PluginHost.start(config, { store, strict: true });
  const mail = (sender: string, ip?: string) =>
    host.run("mail", { session: session(ip), sender: addr(sender), params: {} });
  const rcpt = (to: string, n: number) =>
    host.run("rcpt", {
      session: session(),
      sender: addr("x@y.test"),
      rcpt: addr(to),
      recipients: Array.from({ length: n }, (_, i) => addr(`r${i}@example.test`)),
    });
  try {
    await t.step("declares mail, rcpt and data", () => {
      assert.deepEqual(host.list()[0].hooks, ["mail", "rcpt", "data"]);
    });
    await t.step("block and allow lists for senders", async () => {
      const blocked = await mail("bad@spam.example");
      assert.deepEqual([blocked.action, blocked.code, blocked.enhanced], ["reject", 550, "5.7.1"]);
      for (let i = 0; i < 5; i++) assert.equal((await mail("boss@example.com")).action, "accept");
    });
    await t.step("per-sender rate limit: 451 4.7.1 over the limit", async () => {
      assert.equal((await mail("a@rate.test", "192.0.2.10")).action, "continue");
      assert.equal((await mail("a@rate.test", "192.0.2.11")).action, "continue");
      const third = await mail("a@rate.test", "192.0.2.12");
      assert.deepEqual([third.action, third.code, third.enhanced], ["tempfail", 451, "4.7.1"]);
      assert.match(third.text ?? "", /sender/);
    });
    await t.step("per-IP rate limit", async () => {
      for (let i = 0; i < 3; i++) {
        assert.equal((await mail(`s${i}@ip.test`, "198.51.100.7")).action, "continue");
      }
      const o = await mail("s9@ip.test", "198.51.100.7");
      assert.equal(o.action, "tempfail");
      assert.match(o.text ?? "", /your address/);
    });
    await t.step("recipient lists and maximum recipients", async () => {
      assert.equal((await rcpt("noreply@example.test", 0)).code, 550);
      assert.equal((await rcpt("bob@example.test", 1)).action, "continue");
      const third = await rcpt("bob@example.test", 2);
      assert.deepEqual([third.action, third.code, third.enhanced], ["tempfail", 452, "4.5.3"]);
      assert.equal((await rcpt("postmaster@example.test", 5)).action, "accept");
    });
    await t.step("attachment types", async () => {
      const msg = (name: string) =>
        new TextEncoder().encode(
          'Subject: x\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' +
            "Content-Type: text/plain\r\n\r\nhi\r\n--b\r\n" +
            `Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n` +
            ` filename="${name}"\r\n\r\nAAAA\r\n--b--\r\n`,
        );
      const input = (name: string): HookInput => ({
        session: session(),
        sender: addr("x@y.test"),
        recipients: [addr("bob@example.test")],
        message: msg(name),
      });
      const bad = await host.run("data", input("invoice.pdf.exe"));
      assert.equal(bad.action, "reject");
      assert.match(bad.text ?? "", /\.exe/);
      assert.equal((await host.run("data", input("screen.SCR"))).action, "reject");
      assert.equal((await host.run("data", input("invoice.pdf"))).action, "continue");
    });
  } finally {
    await host.stop();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
