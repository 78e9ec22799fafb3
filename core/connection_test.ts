import assert from "node:assert/strict";
import { Listener } from "./listener.ts";
import { type Connection, LineTooLongError, TimeoutError } from "./connection.ts";
import { ensureTlsFiles, TlsProvider } from "./tls.ts";
import { configFromObject } from "./config.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readUntil(r: Deno.Conn | Deno.TlsConn, text: string): Promise<string> {
  let acc = "";
  const buf = new Uint8Array(4096);
  while (!acc.includes(text)) {
    const n = await r.read(buf);
    if (n === null) break;
    acc += dec.decode(buf.subarray(0, n));
  }
  return acc;
}

/** A listener on an ephemeral port running `handle` per connection, with its TLS material. */
async function testListener(handle: (conn: Connection) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const tls = await TlsProvider.load(
    await ensureTlsFiles(configFromObject({ data_dir: dir }, dir)),
  );
  const listener = await Listener.start({
    name: "test",
    address: { host: "127.0.0.1", port: 0 },
    implicitTls: false,
    tls,
    maxConnections: 10,
    maxConnectionsPerIp: 10,
    refuse: async () => {},
    handle,
  });
  return {
    port: listener.port,
    tls,
    async stop() {
      await listener.stop();
      tls.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("connection: lines, limits, dot data and STARTTLS discarding pipelined plaintext", async () => {
  const seen: string[] = [];
  const listener = await testListener(async (conn) => {
    await conn.write("hello\r\n");
    await assert.rejects(() => conn.readLine(10, 5000), LineTooLongError);
    await conn.write("toolong\r\n");
    const data = await conn.readDotData(1000, 5000);
    await conn.write(`data ${data.size} ${JSON.stringify(dec.decode(data.data!))}\r\n`);
    const cmd = await conn.readLineText(100, 5000);
    seen.push(cmd);
    await conn.write("go ahead\r\n");
    await conn.startTls(listener.tls.context());
    const next = await conn.readLineText(100, 5000);
    seen.push(next);
    await conn.write(`secure ${conn.isTls}\r\n`);
  });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  assert.deepEqual(await readUntil(c, "\n"), "hello\r\n");
  await c.write(enc.encode("x".repeat(100_000) + "\r\n"));
  assert.deepEqual(await readUntil(c, "\n"), "toolong\r\n");
  await c.write(enc.encode("a\r\n..b\r\n.\nc\r\n.\r\n"));
  assert.deepEqual(await readUntil(c, "\n"), `data 12 "a\\r\\n.b\\r\\n\\r\\nc\\r\\n"\r\n`);
  // pipelined plaintext after STARTTLS must be dropped (RFC 3207 §4.2)
  await c.write(enc.encode("STARTTLS\r\nINJECTED\r\n"));
  assert.deepEqual(await readUntil(c, "\n"), "go ahead\r\n");
  const t = await Deno.startTls(c, { hostname: "localhost", caCerts: [listener.tls.certPem] });
  await t.write(enc.encode("after\r\n"));
  assert.deepEqual(await readUntil(t, "\n"), "secure true\r\n");
  t.close();
  assert.deepEqual(seen, ["STARTTLS", "after"]);
  await listener.stop();
});

/** The reference rules of readDotData, line by line (RFC 5321 §4.5.2 and the CRLF rules). */
function referenceDotData(input: string): { body: string; rest: string } {
  let body = "";
  let prevCrlf = true;
  let pos = 0;
  for (;;) {
    const i = input.indexOf("\n", pos);
    if (i < 0) throw new Error("no terminator");
    const hasCr = i > pos && input[i - 1] === "\r";
    let line = input.slice(pos, hasCr ? i - 1 : i);
    pos = i + 1;
    if (line === "." && hasCr && prevCrlf) return { body, rest: input.slice(pos) };
    if (prevCrlf && line.startsWith(".")) line = line.slice(1);
    body += line + "\r\n";
    prevCrlf = hasCr;
  }
}

Deno.test("connection: readDotData matches the line-by-line rules for any chunking", async () => {
  let seed = 42;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const pieces = ["a", "..", ".", "\r\n", "\n", "\r", "xyz", ". ", "\u00e9"];
  const cases: string[] = [];
  for (let c = 0; c < 150; c++) {
    let s = "";
    for (let k = rand(40); k > 0; k--) s += pieces[rand(pieces.length)];
    cases.push(s + "\r\n.\r\n");
  }
  const got: string[] = [];
  const listener = await testListener(async (conn) => {
    for (let i = 0; i < cases.length; i++) {
      const r = await conn.readDotData(1 << 20, 5000);
      got.push(dec.decode(r.data!));
      assert.equal(r.size, r.data!.length);
    }
    await conn.write("done\r\n");
  });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  const all = enc.encode(cases.join(""));
  for (let off = 0; off < all.length;) {
    const n = 1 + rand(700);
    await c.write(all.subarray(off, off + n));
    off += n;
  }
  assert.equal(await readUntil(c, "\n"), "done\r\n");
  c.close();
  await listener.stop();
  // The stream is parsed in order: a case may hold a terminator of its own.
  const expected: string[] = [];
  let rest = cases.join("");
  for (let i = 0; i < cases.length; i++) {
    const r = referenceDotData(rest);
    expected.push(r.body);
    rest = r.rest;
  }
  assert.deepEqual(got, expected);
});

Deno.test("connection: a write to a client that never reads times out and closes", async () => {
  const outcome = Promise.withResolvers<unknown>();
  const listener = await testListener(async (conn) => {
    conn.writeTimeoutMs = 300;
    const chunk = new Uint8Array(1 << 20);
    try {
      for (let i = 0; i < 256; i++) await conn.write(chunk); // far more than socket buffers
      outcome.resolve("all written");
    } catch (e) {
      outcome.resolve(e);
    }
  });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  const err = await outcome.promise;
  assert.ok(err instanceof TimeoutError, `expected a write timeout, got ${err}`);
  c.close();
  await listener.stop();
});
