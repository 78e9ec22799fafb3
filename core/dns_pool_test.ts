import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { createResolver, DnsError } from "./dns.ts";
import { POOL_SIZE, UdpPool } from "./dns_pool.ts";
import { encodeQuery } from "./dns_wire.ts";
import { startDnsServer } from "../tests/lib/dns_server.ts";

Deno.test("dns pool: many queries at a silent server share a few sockets", async () => {
  const silent = createSocket("udp4");
  await new Promise<void>((r) => silent.bind(0, "127.0.0.1", r));
  try {
    const pool = new UdpPool({ host: "127.0.0.1", port: silent.address().port });
    const deadline = Date.now() + 150;
    const all = Array.from(
      { length: 500 },
      (_, i) => pool.exchange((id) => encodeQuery(id, `q${i}.test`, 1), deadline, 100),
    );
    assert.ok(pool.open <= POOL_SIZE, `${pool.open} sockets`);
    const settled = await Promise.allSettled(all);
    assert.ok(settled.every((s) => s.status === "rejected"));
    assert.equal(pool.open, 0, "no socket stays open when idle");
  } finally {
    silent.close();
  }
});

Deno.test("dns pool: answers find their queries on shared sockets", async () => {
  const zone: Record<string, { A: string[] }> = {};
  for (let i = 0; i < 100; i++) zone[`n${i}.test`] = { A: [`192.0.2.${i}`] };
  const dns = await startDnsServer(zone);
  try {
    const r = createResolver({
      nameserver: { host: "127.0.0.1", port: dns.port },
      timeoutMs: 3000,
    });
    const got = await Promise.all(Array.from({ length: 100 }, (_, i) => r.a(`n${i}.test`)));
    got.forEach((a, i) => assert.deepEqual(a, [`192.0.2.${i}`]));
    await assert.rejects(r.a("missing.test"), (e) => e instanceof DnsError && e.permanent);
  } finally {
    await dns.close();
  }
});
