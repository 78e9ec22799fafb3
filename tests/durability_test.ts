/**
 * "A 250 reply means the message is durably stored": 20 concurrent senders, SIGKILL of the
 * server mid-load, restart, and every message that got 250 must be there byte for byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeMessage, sendMessage } from "./lib/smtp_client.ts";
import { addUserCli, configToml, startServerProcess } from "./lib/server_process.ts";
import { configFromObject } from "../core/config.ts";
import { openConfiguredStore } from "../app/store.ts";

const dec = new TextDecoder();

Deno.test("durability: no acknowledged message is lost when the server is SIGKILLed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-kill-" });
  const configPath = join(dir, "denomail.toml");
  await Deno.writeTextFile(
    configPath,
    configToml(`${dir}/data`, ["smtp"], { hostname: "mx.example.test" }),
  );
  await addUserCli(configPath, "bob@example.test", "correct horse battery");

  const server = await startServerProcess(configPath, ["smtp"]);
  const acked = new Map<string, Uint8Array>();
  let killed = false;
  const killAt = 400;
  const sender = async (n: number) => {
    for (let i = 0; !killed; i++) {
      const token = `kill-${n}-${i}`;
      const message = makeMessage(token, 10_240);
      try {
        const r = await sendMessage({
          port: server.ports.smtp,
          from: "load@example.org",
          to: ["bob@example.test"],
          message,
        });
        if (r.code === 250) acked.set(token, message);
        if (acked.size >= killAt && !killed) {
          killed = true;
          await server.kill();
        }
      } catch {
        return; // the server died under us: this message was never acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, (_, n) => sender(n)));
  if (!killed) await server.kill();
  assert.ok(acked.size >= killAt, `only ${acked.size} messages were acknowledged`);

  // Restart: the server must come up on the same data, and every acked message be there.
  const again = await startServerProcess(configPath, ["smtp"]);
  try {
    const config = configFromObject({ hostname: "mx.example.test", data_dir: `${dir}/data` }, dir);
    const store = await openConfiguredStore(config, { inlineWrites: true });
    try {
      const account = await store.getAccount("bob@example.test");
      const inbox = await store.getMailbox(account!.id, "INBOX");
      const stored = new Map<string, Uint8Array>();
      for (const m of await store.listMessages(inbox!.id)) {
        const bytes = await store.readBlob(m.blobId);
        const subject = /\r\nSubject: (\S+)\r\n/.exec(dec.decode(bytes))?.[1];
        if (subject) stored.set(subject, bytes);
      }
      let lost = 0;
      for (const [token, sent] of acked) {
        const got = stored.get(token);
        const tail = got?.subarray(got.length - sent.length);
        if (!tail || !tail.every((b, i) => b === sent[i])) lost++;
      }
      assert.equal(lost, 0, `${lost} of ${acked.size} acknowledged messages lost or altered`);
    } finally {
      await store.close();
    }
  } finally {
    await again.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
