/**
 * Host services are bounded per plugin (issue 13, item 13): a hostile plugin that fills
 * its kv area, stores an oversized value, makes too many keys, or fires a flood of DNS
 * lookups at a silent nameserver gets errors, the server's file handles stay bounded
 * (counted in /proc/self/fd: the server runs in this process), and mail keeps flowing
 * (python3 smtplib, after each attack).
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { python, startTestServer } from "./harness.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;
const MiB = 1024 * 1024;
const FLOOD = 1500;

/** RCPT to each address; prints [code, text] per RCPT and the DATA reply, as JSON. */
const SEND = `
import json, smtplib, sys
port, rcpts = int(sys.argv[1]), sys.argv[2].split(",")
out = {"rcpt": []}
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo()
s.mail("sender@example.org")
ok = 0
for r in rcpts:
    code, text = s.rcpt(r)
    out["rcpt"].append([code, text.decode()])
    ok += code == 250
if ok:
    code, text = s.data(b"Subject: after\\r\\nFrom: sender@example.org\\r\\n\\r\\nhello\\r\\n")
    out["data"] = [code, text.decode()]
s.quit()
print(json.dumps(out))
`;

interface Sent {
  rcpt: Array<[number, string]>;
  data?: [number, string];
}

async function send(port: number, rcpts: string[]): Promise<Sent> {
  return JSON.parse((await python(SEND, [String(port), rcpts.join(",")])).stdout);
}

/**
 * A UDP "nameserver" that never answers: every lookup waits for its timeout. It notes the
 * source port of every query, i.e. each client socket used (the server runs in this
 * process, and other test files running in parallel share /proc/self/fd, so the sockets
 * are counted here, where only this test's lookups arrive).
 */
async function silentNameserver(): Promise<{ port: number; ports: Set<number>; close(): void }> {
  const sock = createSocket("udp4");
  const ports = new Set<number>();
  sock.on("message", (_msg, rinfo) => ports.add(rinfo.port));
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  return { port: sock.address().port, ports, close: () => sock.close() };
}

Deno.test("plugin host services: kv quotas and DNS limits hold, mail keeps flowing", async (t) => {
  const silent = await silentNameserver();
  const ts = await startTestServer({
    dns: { nameserver: `127.0.0.1:${silent.port}`, timeout: "250ms" },
    plugins: [{
      name: "hostile",
      module: fixture("hostile.ts"),
      timeout_ms: 30_000,
      memory_mb: 256,
      kv_max_bytes: 4 * MiB,
      kv_max_keys: 1000,
      kv_max_value_bytes: 1 * MiB,
      dns_max_in_flight: 64,
      options: { dnsFlood: String(FLOOD) },
    }],
  });
  const port = ts.port("smtp");
  // The server checks a recipient before the plugin's rcpt hook: each attack is a mailbox.
  for (const u of ["rcpt", "kvfill", "kvkeys", "dnsflood"]) {
    await ts.addUser(`${u}@example.test`, "pw-123456");
  }
  const mailFlows = async () => {
    const r = await send(port, ["rcpt@example.test"]);
    assert.deepEqual(r.rcpt.map((x) => x[0]), [250]);
    assert.equal(r.data?.[0], 250);
  };
  try {
    await t.step("kv_max_bytes: 1 MiB values are refused past the area's size", async () => {
      const r = await send(port, ["kvfill@example.test"]);
      assert.match(r.rcpt[0][1], /kvfill stopped at 3: .*kv_max_bytes \(4194304\)/);
      await mailFlows();
    });

    await t.step("kv_max_value_bytes: a value over it is refused", async () => {
      const big = await startTestServer({
        plugins: [{
          name: "small",
          module: fixture("hostile.ts"),
          kv_max_value_bytes: 256 * 1024,
        }],
      });
      try {
        await big.addUser("rcpt@example.test", "pw-123456");
        await big.addUser("kvhuge@example.test", "pw-123456");
        const r = await send(big.port("smtp"), ["kvhuge@example.test", "rcpt@example.test"]);
        assert.match(r.rcpt[0][1], /denied Error: kv value is over kv_max_value_bytes/);
        assert.equal(r.rcpt[1][0], 250);
        assert.equal(r.data?.[0], 250);
      } finally {
        await big.stop();
      }
    });

    await t.step("kv_max_keys: new keys are refused past the count", async () => {
      // 3 keys are there from kvfill.
      const r = await send(port, ["kvkeys@example.test"]);
      assert.match(r.rcpt[0][1], /kvkeys stopped at 997: .*kv_max_keys \(1000\)/);
      await mailFlows();
    });

    await t.step("a deleted key frees its room", async () => {
      await ts.store.kvDelete("plugin:hostile", "big0");
      await ts.store.kvSet("plugin:hostile", "big0", "x", undefined, {
        maxBytes: 4 * MiB,
        maxKeys: 1000,
      });
    });

    await t.step(`dns: ${FLOOD} lookups at once at a silent server`, async () => {
      silent.ports.clear();
      const r = await send(port, ["dnsflood@example.test"]);
      // 64 in flight + 1000 waiting; the rest refused at once.
      assert.match(r.rcpt[0][1], new RegExp(`dnsflood ${FLOOD} refused=${FLOOD - 1064}$`));
      // A socket per lookup used 1,064 sockets (and held as many handles); the shared pool
      // holds at most 4 at once, each replaced after 256 queries: ~1064 / 256 + 4 in all.
      assert.ok(silent.ports.size <= 12, `${silent.ports.size} client sockets were used`);
      await mailFlows();
    });
  } finally {
    await ts.stop();
    silent.close();
  }
});
