/**
 * The https listener's front when ACME answers TLS-ALPN-01 (RFC 8737): every connection's
 * ClientHello is read first; one that offers "acme-tls/1" is answered by core/acme (the
 * challenge certificate, RFC 8737 §3), all others go to the real https server, which then
 * listens on loopback only. Bytes are relayed untouched (TLS ends in the
 * server behind), and the real server learns each client's address from `peerOf`: the
 * relay's loopback port maps to the client's address, so loopback privileges are never
 * given to a relayed client.
 *
 * Deno.serve takes one certificate and no ALPN/SNI callback, hence the relay. It costs a
 * copy of each https byte, so it runs only with `[acme] challenge = "tls-alpn-01"`.
 *
 * @module
 */
import type { HostPort } from "../../core/config.ts";
import { normalizeAddress } from "../../core/connection.ts";
import { log } from "../../lib/log.ts";
import { type ClientHello, parseClientHello, recordLength } from "../../core/acme/client_hello.ts";

const HELLO_TIMEOUT_MS = 10_000;
const ACME_ALPN = "acme-tls/1";
const INNER_RETRIES = 100;
const INNER_RETRY_MS = 20;
/** How often a ClientHello is offered again to a server that hung up without a word. */
const REPLAYS = 5;

/** What the front needs of core/acme's challenge registry. */
export interface AlpnChallenges {
  /** Answers an acme-tls/1 handshake; false when no challenge is pending for its name. */
  respondAlpn(conn: Deno.Conn, hello: ClientHello): Promise<boolean>;
}

export interface AlpnFront {
  port: number;
  /** The client's address for a connection the real server saw from 127.0.0.1:`port`. */
  peerOf(port: number): string | undefined;
  stop(): void;
}

export function startAlpnFront(
  address: HostPort,
  innerPort: () => number,
  challenges: AlpnChallenges,
): AlpnFront {
  const listener = Deno.listen({ hostname: address.host, port: address.port, transport: "tcp" });
  const peers = new Map<number, string>();
  const open = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      open.add(conn);
      relay(conn, innerPort, challenges, peers)
        .catch(() => {})
        .finally(() => {
          open.delete(conn);
          try {
            conn.close();
          } catch { /* closed */ }
        });
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    peerOf: (port) => peers.get(port),
    stop() {
      try {
        listener.close();
      } catch { /* closed */ }
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

async function readHello(conn: Deno.Conn): Promise<Uint8Array> {
  let buf = new Uint8Array(0);
  const timer = setTimeout(() => conn.close(), HELLO_TIMEOUT_MS);
  try {
    for (;;) {
      const want = recordLength(buf);
      if (want !== null && buf.length >= want) return buf;
      const chunk = new Uint8Array(4096);
      const n = await conn.read(chunk);
      if (n === null) return buf;
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
    }
  } finally {
    clearTimeout(timer);
  }
}

async function relay(
  conn: Deno.Conn,
  innerPort: () => number,
  challenges: AlpnChallenges,
  peers: Map<number, string>,
): Promise<void> {
  const hello = await readHello(conn);
  const info = parseClientHello(hello);
  if (info.alpn.includes(ACME_ALPN)) {
    if (!(await challenges.respondAlpn(conn, info))) {
      log.info("https", `acme-tls/1 handshake for ${info.serverName} with no pending challenge`);
    }
    return;
  }
  const peer = normalizeAddress((conn.remoteAddr as Deno.NetAddr).hostname);
  (conn as Deno.TcpConn).setNoDelay?.(true);
  const { upstream, local, first } = await openUpstream(innerPort, hello, peer, peers);
  // A failure in one direction ends both (no half-dead relay waits forever).
  const fail = () => {
    for (const c of [conn, upstream]) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  };
  try {
    await writeAll(conn, first);
    await Promise.all([copy(conn, upstream).catch(fail), copy(upstream, conn).catch(fail)]);
  } finally {
    peers.delete(local);
    try {
      upstream.close();
    } catch { /* closed by the pipe */ }
  }
}

/**
 * Connects to the server behind and hands it the ClientHello; returns once its first
 * answer has been passed to the client. A server that hangs up before answering (an
 * old one closing on a certificate reload while the connection sat in its backlog) is
 * tried again: nothing has reached the client yet, and the client's further bytes wait
 * in the kernel until then, so the ClientHello can be replayed as is.
 */
async function openUpstream(
  innerPort: () => number,
  hello: Uint8Array,
  peer: string,
  peers: Map<number, string>,
): Promise<{ upstream: Deno.Conn; local: number; first: Uint8Array }> {
  for (let attempt = 0;; attempt++) {
    const upstream = await connectInner(innerPort);
    // Small TLS records must not wait for Nagle's algorithm on this leg.
    (upstream as Deno.TcpConn).setNoDelay?.(true);
    const local = (upstream.localAddr as Deno.NetAddr).port;
    peers.set(local, peer);
    const buf = new Uint8Array(16 * 1024);
    const n = await writeAll(upstream, hello).then(() => upstream.read(buf)).catch(() => null);
    if (n !== null) return { upstream, local, first: buf.subarray(0, n) };
    peers.delete(local);
    try {
      upstream.close();
    } catch { /* closed */ }
    if (attempt >= REPLAYS) throw new Error("the https server behind the front hung up");
    await new Promise((r) => setTimeout(r, INNER_RETRY_MS));
  }
}

/**
 * Connects to the https server behind; while it restarts for a reloaded certificate its
 * port is briefly closed, and the client waits here instead of being dropped.
 */
async function connectInner(innerPort: () => number): Promise<Deno.Conn> {
  for (let i = 0;; i++) {
    try {
      return await Deno.connect({ hostname: "127.0.0.1", port: innerPort() });
    } catch (e) {
      const closing = e instanceof Deno.errors.ConnectionRefused ||
        e instanceof Deno.errors.ConnectionReset;
      if (!closing || i >= INNER_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, INNER_RETRY_MS));
    }
  }
}

async function writeAll(to: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await to.write(bytes.subarray(off));
}

/** Copies until end of input, then half-closes the output (the peer sees the end too). */
async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await from.read(buf);
    if (n === null) break;
    await writeAll(to, buf.subarray(0, n));
  }
  await (to as Deno.TcpConn).closeWrite();
}
