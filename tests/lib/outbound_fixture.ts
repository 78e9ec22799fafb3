/**
 * Shared setup for the outbound delivery tests and `bench/outbound.ts`: polling, reading an
 * INBOX, a sending instance (A, mx.a.test) pointed at a loopback DNS server, a DKIM key
 * published in that DNS, DKIM verification against it, a store and config of one's own for
 * driving a QueueRunner directly, and a counting SMTP sink on loopback.
 *
 * @module
 */
import { join } from "node:path";
import { authenticate } from "mailauth";
import { startTestServer, type TestServer } from "../harness.ts";
import type { TestDnsServer, ZoneEntry } from "./dns_server.ts";
import { type Config, configFromObject } from "../../core/config.ts";
import { createResolver } from "../../core/dns.ts";
import { dkimTxtRecord, generateDkimKey, saveDkimKey } from "../../core/queue/dkim.ts";
import { openConfiguredStore } from "../../app/store.ts";
import type { Store } from "../../storage/mod.ts";

/**
 * A python3 smtplib submission: argv port, from, comma-separated recipients, subject, body
 * (optional); STARTTLS when offered (any certificate), then AUTH as `from` / "secret-pw".
 */
export const SUBMIT_PY = `
import smtplib, ssl, sys
port, frm, to, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), sys.argv[4]
text = sys.argv[5] if len(sys.argv) > 5 else "Hello.\\r\\n"
body = "From: <%s>\\r\\nTo: %s\\r\\nSubject: %s\\r\\n\\r\\n%s" % (frm, ", ".join(to), subject, text)
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.a.test")
if s.has_extn("starttls"):
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx); s.ehlo("client.a.test")
s.login(frm, "secret-pw")
s.sendmail(frm, to, body.encode())
s.quit()
`;

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  what: string,
  ms = 20000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Messages in an account's INBOX, decoded ([] while the account or INBOX is missing). */
export async function inbox(store: Store, email: string): Promise<string[]> {
  const acc = await store.getAccount(email);
  if (!acc) return [];
  const mb = await store.getMailbox(acc.id, "INBOX");
  if (!mb) return [];
  const out: string[] = [];
  for (const m of await store.listMessages(mb.id)) {
    out.push(new TextDecoder().decode(await store.readBlob(m.blobId)));
  }
  return out;
}

/** A loopback port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** `[dns]` settings that use the loopback DNS server. */
export function dnsSettings(dns: TestDnsServer, timeout = "2s") {
  return { nameserver: dns.nameserver, timeout };
}

/** A zone in which every one of `domains` has `mxHost` (127.0.0.1) as its MX. */
export function sharedMxZone(mxHost: string, domains: string[]): Record<string, ZoneEntry> {
  const zone: Record<string, ZoneEntry> = { [mxHost]: { A: ["127.0.0.1"] } };
  for (const d of domains) zone[d] = { MX: [{ preference: 10, exchange: mxHost }] };
  return zone;
}

/**
 * The sending instance A (mx.a.test) with user alice@a.test (password "secret-pw"): DNS from
 * `dns`, remote SMTP on `smtpPort`, retries every second. `delivery` adds to (or overrides)
 * the `[delivery]` settings, `extra` to the rest of the config.
 */
export async function startSender(
  dns: TestDnsServer,
  smtpPort: number,
  delivery: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Promise<TestServer> {
  const a = await startTestServer({
    hostname: "mx.a.test",
    dns: dnsSettings(dns),
    delivery: { smtp_port: smtpPort, retry_schedule: ["1s"], ...delivery },
    ...extra,
  });
  try {
    await a.addUser("alice@a.test", "secret-pw");
  } catch (e) {
    await a.stop();
    throw e;
  }
  return a;
}

/** Generates a DKIM key for `domain`, saves it under `dataDir` and publishes it in `dns`. */
export async function publishDkimKey(
  dns: TestDnsServer,
  dataDir: string,
  domain: string,
  selector: string,
): Promise<void> {
  const key = generateDkimKey(domain, selector);
  await saveDkimKey(dataDir, key);
  dns.zone.set(`${selector}._domainkey.${domain}`, { TXT: [dkimTxtRecord(key.publicKey)] });
}

/** One DKIM signature's verdict, as mailauth reports it. */
export interface DkimResult {
  status: { result: string };
  signingDomain: string;
}

/**
 * Verifies `message`'s DKIM signatures with mailauth, keys looked up in `dns` (sent from
 * alice@a.test, HELO mx.a.test, received by `mta`).
 */
export async function verifyDkim(
  dns: TestDnsServer,
  message: Parameters<typeof authenticate>[0],
  mta: string,
): Promise<DkimResult[]> {
  const resolver = createResolver({
    nameserver: { host: "127.0.0.1", port: dns.port },
    timeoutMs: 2000,
  });
  const res = await authenticate(message, {
    ip: "127.0.0.1",
    helo: "mx.a.test",
    mta,
    sender: "alice@a.test",
    resolver: async (name: string, type: string) => {
      if (type !== "TXT") throw Object.assign(new Error("no"), { code: "ENOTFOUND" });
      try {
        return (await resolver.txt(name)).map((s) => [s]);
      } catch {
        throw Object.assign(new Error("no"), { code: "ENOTFOUND" });
      }
    },
  });
  return res.dkim.results as DkimResult[];
}

/**
 * A store and config of one's own (no listeners, no runner of a server's), in a temp dir
 * named by `prefix`; `settings` is the config without `data_dir`.
 */
export async function openLocalStore(prefix: string, settings: Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix });
  const config: Config = configFromObject({ ...settings, data_dir: join(dir, "data") }, dir);
  const store = await openConfiguredStore(config);
  return {
    config,
    store,
    async close() {
      await store.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A running counting sink. */
export interface CountingSink {
  port: number;
  /** Connections opened, sessions ended, messages accepted. */
  stats: { connections: number; sessions: number; messages: number };
  close(): Promise<void>;
}

/**
 * A counting SMTP sink on loopback: greets as `name`, EHLO offers PIPELINING, 8BITMIME and
 * `extensions`; RCPT to local part "bad" gets 550 5.1.1, everything else 250; DATA is read to
 * the final dot and dropped (accepted when some recipient was).
 */
export function startCountingSink(name = "sink.test", extensions: string[] = []): CountingSink {
  const enc = new TextEncoder();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stats = { connections: 0, sessions: 0, messages: 0 };
  const conns = new Set<Deno.Conn>();
  const ehlo = [name, "PIPELINING", "8BITMIME", ...extensions]
    .map((l, i, all) => `250${i === all.length - 1 ? " " : "-"}${l}\r\n`).join("");
  const serve = async (conn: Deno.Conn) => {
    stats.connections++;
    conns.add(conn);
    const write = (s: string) => conn.write(enc.encode(s));
    try {
      await write(`220 ${name} ESMTP\r\n`);
      let buf = "";
      let inData = false;
      let accepted = 0;
      const chunk = new Uint8Array(65536);
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) return;
        // latin1 keeps one char per byte, so 8-bit bodies cannot break the framing.
        buf += String.fromCharCode(...chunk.subarray(0, n));
        let out = "";
        for (;;) {
          if (inData) {
            const end = buf.indexOf("\r\n.\r\n");
            if (end < 0) {
              buf = buf.slice(Math.max(0, buf.length - 4));
              break;
            }
            buf = buf.slice(end + 5);
            inData = false;
            if (accepted > 0) stats.messages++;
            out += accepted > 0 ? "250 2.0.0 queued\r\n" : "554 5.5.1 no valid recipients\r\n";
            continue;
          }
          const eol = buf.indexOf("\r\n");
          if (eol < 0) break;
          const line = buf.slice(0, eol);
          buf = buf.slice(eol + 2);
          const verb = line.split(" ")[0].toUpperCase();
          if (verb === "EHLO") out += ehlo;
          else if (verb === "MAIL" || verb === "RSET") {
            accepted = 0;
            out += "250 2.0.0 ok\r\n";
          } else if (verb === "RCPT") {
            if (/<bad@/i.test(line)) out += "550 5.1.1 no such user\r\n";
            else {
              accepted++;
              out += "250 2.1.5 ok\r\n";
            }
          } else if (verb === "DATA") {
            out += "354 go ahead\r\n";
            inData = true;
            // The body starts right after DATA's line; a preceding CRLF is implied.
            buf = "\r\n" + buf;
          } else if (verb === "QUIT") {
            await write(out + "221 2.0.0 bye\r\n");
            return;
          } else out += "250 2.0.0 ok\r\n";
        }
        if (out) await write(out);
      }
    } catch {
      /* client went away */
    } finally {
      stats.sessions++;
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const accepting = (async () => {
    try {
      for await (const c of listener) void serve(c);
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    stats,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await accepting;
    },
  };
}
