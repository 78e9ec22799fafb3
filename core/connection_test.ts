import assert from "node:assert/strict";
import { Listener } from "./listener.ts";
import {
  type Connection,
  DeadlineError,
  LineTooLongError,
  ShutdownError,
  TimeoutError,
} from "./connection.ts";
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
    async stop(graceMs?: number) {
      await listener.stop(graceMs);
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

/** Writes `text` one byte every `everyMs` until `stop` settles (a slowloris client). */
async function dribble(c: Deno.Conn, text: string, everyMs: number, stop: Promise<unknown>) {
  let stopped = false;
  stop.finally(() => stopped = true);
  for (const ch of text) {
    if (stopped) return;
    try {
      await c.write(enc.encode(ch));
    } catch {
      return; // closed by the server
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

Deno.test("connection: a line dribbled faster than the read timeout ends at the line deadline", async () => {
  const outcome = Promise.withResolvers<{ error: unknown; ms: number }>();
  const listener = await testListener(async (conn) => {
    conn.lineTimeoutMs = 400;
    const t0 = Date.now();
    try {
      await conn.readLine(1000, 10_000); // each byte comes well within 10 s
      outcome.resolve({ error: null, ms: Date.now() - t0 });
    } catch (e) {
      outcome.resolve({ error: e, ms: Date.now() - t0 });
    }
  });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  void dribble(c, "NOOP and a very long line that takes a while\r\n", 40, outcome.promise);
  const { error, ms } = await outcome.promise;
  assert.ok(error instanceof DeadlineError, `expected DeadlineError, got ${error}`);
  assert.ok(error instanceof TimeoutError, "a DeadlineError is a TimeoutError");
  assert.ok(ms >= 350 && ms < 3000, `cut after ${ms} ms`);
  c.close();
  await listener.stop();
});

Deno.test("connection: DATA slower than min_data_rate ends; a line idle waits are not cut", async () => {
  const outcome = Promise.withResolvers<{ error: unknown; ms: number }>();
  const listener = await testListener(async (conn) => {
    conn.lineTimeoutMs = 300;
    conn.minDataRate = 100; // octets per second
    // Waiting for a command is not a line in progress: 500 ms of silence is fine.
    assert.equal(await conn.readLineText(100, 10_000), "DATA");
    const t0 = Date.now();
    try {
      await conn.readDotData(1_000_000, 10_000);
      outcome.resolve({ error: null, ms: Date.now() - t0 });
    } catch (e) {
      outcome.resolve({ error: e, ms: Date.now() - t0 });
    }
  });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  await new Promise((r) => setTimeout(r, 500));
  await c.write(enc.encode("DATA\r\n"));
  // 25 octets/s against a floor of 100/s: cut after about 300 ms + octets/100.
  void dribble(c, "Subject: slow\r\n\r\n" + "x".repeat(200), 40, outcome.promise);
  const { error, ms } = await outcome.promise;
  assert.ok(error instanceof DeadlineError, `expected DeadlineError, got ${error}`);
  assert.ok(ms >= 300 && ms < 3000, `cut after ${ms} ms`);
  c.close();
  await listener.stop();
});

Deno.test("connection: shutdown ends an idle wait at once and lets a line under way finish", async () => {
  const idle = Promise.withResolvers<unknown>();
  const busy = Promise.withResolvers<unknown>();
  const started = Promise.withResolvers<void>();
  const conns: Connection[] = [];
  const listener = await testListener(async (conn) => {
    conns.push(conn);
    await conn.write("hi\r\n");
    if (conns.length === 2) started.resolve();
    const out = conns.length === 1 ? idle : busy;
    try {
      const line = await conn.readLineText(100, 60_000);
      out.resolve(line);
      await conn.readLineText(100, 60_000); // now idle: the shutdown ends it
    } catch (e) {
      out.resolve(e);
    }
  });
  const a = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  assert.equal(await readUntil(a, "\n"), "hi\r\n");
  const b = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  assert.equal(await readUntil(b, "\n"), "hi\r\n");
  await started.promise;
  await b.write(enc.encode("half a li")); // a line under way
  await new Promise((r) => setTimeout(r, 100)); // let the server see the partial line
  const t0 = Date.now();
  const stopping = listener.stop(2000);
  assert.ok(await idle.promise instanceof ShutdownError);
  assert.ok(Date.now() - t0 < 500, "the idle session ends at once");
  await b.write(enc.encode("ne\r\n"));
  assert.equal(await busy.promise, "half a line");
  await stopping;
  a.close();
  b.close();
});
