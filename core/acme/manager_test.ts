import assert from "node:assert/strict";
import { join } from "node:path";
import { AcmeManager } from "./manager.ts";
import { acmePaths, finishSwap, installPair } from "./files.ts";

Deno.test("acme manager: a failed request is retried after 5 min, then 10, 20 … up to 6 h", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-acme-unit-" });
  // Port 1 on loopback: connection refused at once.
  const m = new AcmeManager(
    {
      directory: "https://127.0.0.1:1/dir",
      email: null,
      domains: ["mail.example.test"],
      challenge: "http-01",
      caFile: null,
    },
    dir,
    { reload: () => Promise.resolve(true) },
    Date.now,
  );
  try {
    assert.equal(await m.renewalReason(), "no certificate yet");
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      assert.equal(await m.check(), false);
      waits.push(m.nextCheckInMs / 60_000);
    }
    assert.deepEqual(waits, [5, 10, 20, 40, 80, 160, 320, 360]);
    // The account key was made once, private to the server.
    const st = await Deno.stat(join(dir, "acme", "account.key"));
    assert.equal(st.mode! & 0o777, 0o600);
  } finally {
    m.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acme files: a swap cut short by a crash is completed, never half-applied", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-acme-unit-" });
  const p = acmePaths(dir);
  try {
    await installPair(p, "CERT1", "KEY1");
    assert.equal(await Deno.readTextFile(p.cert), "CERT1");
    assert.equal(await Deno.readTextFile(p.key), "KEY1");
    // Crash after the key was renamed in, before the certificate: the next start finishes.
    await Deno.writeTextFile(`${p.cert}.next`, "CERT2");
    await Deno.writeTextFile(p.key, "KEY2");
    await finishSwap(p);
    assert.equal(await Deno.readTextFile(p.cert), "CERT2");
    assert.equal(await Deno.readTextFile(p.key), "KEY2");
    // Crash while writing the key (no certificate yet): the old pair stays.
    await Deno.writeTextFile(`${p.key}.next`, "KEY3-partial");
    await finishSwap(p);
    assert.equal(await Deno.readTextFile(p.cert), "CERT2");
    assert.equal(await Deno.readTextFile(p.key), "KEY2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
