/**
 * COMPRESS=DEFLATE (RFC 4978) end to end: imapflow negotiates it by itself (fetch of a large
 * message, IDLE under compression), a python client on a raw socket with zlib (pipelined
 * commands, a literal inside the compressed stream, COMPRESSIONACTIVE, garbage input), and
 * the raw client for the refusals.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { deliver, flowClient, once, RawImap, sampleMessage } from "./imap_helpers.ts";

const USER = "zip@example.test";
const PASS = "zip-pw";

const PY_CLIENT = `
import socket, sys, zlib
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def line():
    return f.readline().decode().rstrip("\\r\\n")
def plain(cmd):
    s.sendall(cmd.encode() + b"\\r\\n")
    out = []
    while True:
        l = line(); out.append(l)
        if l.startswith(cmd.split()[0] + " "):
            return out
line()  # greeting
plain("a LOGIN %s %s" % (user, pw))
print(plain("b COMPRESS DEFLATE")[-1])
comp = zlib.compressobj(wbits=-15)
decomp = zlib.decompressobj(wbits=-15)
buf = b""
def send(data):
    s.sendall(comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))
def until(tag):
    global buf
    out = []
    while True:
        while b"\\r\\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("closed")
            buf += decomp.decompress(chunk)
        i = buf.index(b"\\r\\n")
        l, buf = buf[:i].decode("utf-8", "replace"), buf[i + 2:]
        m = l.endswith("}") and l[l.rindex("{") + 1:-1]
        if m and m.isdigit():
            n = int(m)
            while len(buf) < n:
                buf += decomp.decompress(s.recv(65536))
            l += "<%d octets>" % n
            buf = buf[n:]
            while b"\\r\\n" not in buf:
                buf += decomp.decompress(s.recv(65536))
            i = buf.index(b"\\r\\n"); l += buf[:i].decode(); buf = buf[i + 2:]
        out.append(l)
        if l.startswith(tag + " "):
            return out
# Several commands in one compressed burst (pipelining).
send(b"c1 SELECT INBOX\\r\\nc2 CAPABILITY\\r\\nc3 NOOP\\r\\n")
r = until("c3")
print([l for l in r if "EXISTS" in l][0])
print("COMPRESS=DEFLATE" in [l for l in r if l.startswith("* CAPABILITY")][0])
print(r[-1])
msg = b"Subject: squeezed\\r\\n\\r\\n" + b"compress me " * 5000 + b"\\r\\n"
send(b"c4 APPEND INBOX {%d+}\\r\\n" % len(msg) + msg + b"\\r\\n")
print(until("c4")[-1].split("]")[0])
send(b"c5 FETCH * (RFC822.SIZE BODY.PEEK[])\\r\\n")
r = until("c5")
print(r[0].split(" BODY")[0], r[-1])
send(b"c6 COMPRESS DEFLATE\\r\\n")
print(until("c6")[-1])
send(b"c7 LOGOUT\\r\\n")
print(until("c7")[-1])
`;

Deno.test("imap: COMPRESS=DEFLATE (RFC 4978)", async (t) => {
  const ts = await startTestServer();
  const acc = await ts.addUser(USER, PASS);
  const big = sampleMessage("big one", "0123456789abcdef ".repeat(20_000) + "\r\n");
  const uid = await deliver(ts, acc.id, big);
  const port = ts.port("imap");
  try {
    await t.step("imapflow compresses by itself: large FETCH, IDLE", async () => {
      const flow = flowClient(port, ts.certPem, USER, PASS);
      await flow.connect();
      try {
        assert.ok(flow.capabilities.has("COMPRESS=DEFLATE"));
        assert.ok((flow as unknown as { _deflate?: unknown })._deflate, "COMPRESS negotiated");
        await flow.mailboxOpen("INBOX");
        const msg = await flow.fetchOne(String(uid), { source: true }, { uid: true });
        assert.ok(msg);
        assert.deepEqual(new Uint8Array(msg.source!), big);
        const exists = once<{ count: number }>(flow, "exists", 5000);
        const idle = flow.idle();
        await deliver(ts, acc.id, sampleMessage("while idle"));
        assert.equal((await exists).count, 2);
        await flow.noop();
        await idle;
      } finally {
        await flow.logout();
      }
    });

    await t.step(
      "python raw socket with zlib: pipelining, literals, COMPRESSIONACTIVE",
      async () => {
        const out = await python(PY_CLIENT, [String(port), USER, PASS]);
        const lines = out.stdout.trim().split("\n");
        assert.equal(lines[0], "b OK DEFLATE active");
        assert.equal(lines[1], "* 2 EXISTS");
        assert.equal(lines[2], "False"); // not offered again once active
        assert.equal(lines[3], "c3 OK NOOP completed");
        assert.match(lines[4], /^c4 OK \[APPENDUID \d+ 3$/);
        assert.match(lines[5], /^\* 3 FETCH \(RFC822\.SIZE 60023 c5 OK FETCH completed$/);
        assert.equal(lines[6], "c6 NO [COMPRESSIONACTIVE] Compression is already active");
        assert.equal(lines[7], "c7 OK LOGOUT completed");
      },
    );

    await t.step(
      "refusals: before login, unknown mechanism; garbage ends the session",
      async () => {
        const { client } = await RawImap.connect(port);
        try {
          assert.match((await client.command("COMPRESS DEFLATE")).tagged, /BAD .*not allowed/);
          await client.command(`LOGIN ${USER} ${PASS}`);
          assert.match((await client.command("COMPRESS LZMA")).tagged, /BAD Unknown compression/);
          assert.match((await client.command("COMPRESS DEFLATE")).tagged, /OK DEFLATE active/);
          // Not a valid DEFLATE stream (reserved block type 3): the server hangs up.
          await client.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0d, 0x0a]));
          assert.deepEqual(await client.drain(), []);
        } finally {
          client.close();
        }
      },
    );
  } finally {
    await ts.stop();
  }
});
