/**
 * A minimal raw IMAP client for protocol tests that real clients cannot express (limits,
 * pipelining, exact untagged ordering). Reads responses with their literals.
 *
 * @module
 */
import { ImapFlow, type ImapFlowOptions } from "imapflow";
import { python, type TestServer } from "./harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One response line; `literals` holds the octets of literals it announced. */
export interface ResponseLine {
  text: string;
  literals: Uint8Array[];
}

/** A raw IMAP connection. */
export class RawImap {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #tag = 0;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects and reads the greeting. */
  static async connect(port: number): Promise<{ client: RawImap; greeting: string }> {
    const client = new RawImap(await Deno.connect({ hostname: "127.0.0.1", port }));
    const greeting = (await client.readResponse()).text;
    return { client, greeting };
  }

  /** Connects, reads the greeting and logs in. */
  static async login(port: number, user: string, pass: string): Promise<RawImap> {
    const { client } = await RawImap.connect(port);
    const r = await client.command(`LOGIN "${user}" "${pass}"`);
    if (!r.tagged.includes(" OK ")) throw new Error(`login failed: ${r.tagged}`);
    return client;
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(65536);
    const n = await this.#conn.read(chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** Reads one line (without CRLF); null at EOF. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const line = this.#buf.subarray(0, i > 0 && this.#buf[i - 1] === 13 ? i - 1 : i);
        const text = dec.decode(line);
        this.#buf = this.#buf.slice(i + 1);
        return text;
      }
      if (!await this.#fill()) return null;
    }
  }

  async #readBytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      if (!await this.#fill()) throw new Error("EOF inside a literal");
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /** Reads one response, following literals (`{n}` at line end) into `literals`. */
  async readResponse(): Promise<ResponseLine> {
    let text = "";
    const literals: Uint8Array[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line === null) throw new Error(`EOF (got so far: ${JSON.stringify(text)})`);
      text += line;
      const m = /~?\{(\d+)\}$/.exec(line);
      if (!m) return { text, literals };
      const data = await this.#readBytes(Number(m[1]));
      literals.push(data);
      text += `<${data.length} octets>`;
    }
  }

  /** Writes raw text or bytes. */
  async write(data: string | Uint8Array): Promise<void> {
    let b = typeof data === "string" ? enc.encode(data) : data;
    while (b.length > 0) b = b.subarray(await this.#conn.write(b));
  }

  /** A fresh tag. */
  nextTag(): string {
    return `t${++this.#tag}`;
  }

  /** Reads responses until the tagged one for `tag`. */
  async until(tag: string): Promise<{ untagged: ResponseLine[]; tagged: string }> {
    const untagged: ResponseLine[] = [];
    for (;;) {
      const r = await this.readResponse();
      if (r.text.startsWith(`${tag} `)) return { untagged, tagged: r.text };
      untagged.push(r);
    }
  }

  /** Sends `<tag> <command>` and collects its responses. */
  async command(
    cmd: string,
  ): Promise<{ lines: string[]; untagged: ResponseLine[]; tagged: string }> {
    const tag = this.nextTag();
    await this.write(`${tag} ${cmd}\r\n`);
    const r = await this.until(tag);
    return { ...r, lines: r.untagged.map((u) => u.text) };
  }

  /** Reads until EOF, returning the remaining lines. */
  async drain(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.readLine();
      if (l === null) return out;
      out.push(l);
    }
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

/** A small RFC 5322 message with a unique subject. */
export function sampleMessage(subject: string, body = "Hello there.\r\n"): Uint8Array {
  return enc.encode(
    `From: "Bob Example" <bob@example.test>\r\nTo: alice@example.test\r\n` +
      `Subject: ${subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n` +
      `Message-ID: <${subject.replace(/\W/g, "")}@example.test>\r\n\r\n${body}`,
  );
}

/** Delivers a message into a mailbox of an account and returns its UID. */
export async function deliver(
  ts: TestServer,
  accountId: number,
  message: Uint8Array,
  mailbox = "INBOX",
): Promise<number> {
  const [placed] = await ts.store.deliver(message, [{ accountId, mailbox }]);
  return placed.uid;
}

/** Raw connections of one test, logged in as one user by default, closed all at once. */
export class RawPool {
  #open: RawImap[] = [];

  constructor(readonly port: number, readonly user: string, readonly pass: string) {}

  /** A connection that has read the greeting (not logged in). */
  async connect(): Promise<{ client: RawImap; greeting: string }> {
    const r = await RawImap.connect(this.port);
    this.#open.push(r.client);
    return r;
  }

  /** A logged-in connection. */
  async login(user = this.user, pass = this.pass): Promise<RawImap> {
    const c = await RawImap.login(this.port, user, pass);
    this.#open.push(c);
    return c;
  }

  /** Closes every connection opened so far. */
  closeAll(): void {
    for (const c of this.#open.splice(0)) c.close();
  }
}

/**
 * An imapflow client for the server's plain IMAP port (STARTTLS against its self-signed
 * certificate `ca`), not connected yet; `extra` adds to the options.
 */
export function flowClient(
  port: number,
  ca: string,
  user: string,
  pass: string,
  extra: Partial<ImapFlowOptions> = {},
): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port,
    secure: false,
    tls: { ca, servername: "localhost" },
    auth: { user, pass },
    logger: false,
    ...extra,
  });
}

/**
 * An imapflow client for a plain IMAP port without STARTTLS (loopback in dev, as the cluster
 * tests' nodes run), not connected yet.
 */
export function plainFlowClient(port: number, user: string, pass: string): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass },
    logger: false,
  });
}

/**
 * Runs python imaplib: `m` connected to `port` and logged in as `user`, then `body`, then
 * `m.logout()`. `args` follow port, user and password in sys.argv. Returns the lines printed.
 */
export async function imaplib(
  port: number,
  user: string,
  pass: string,
  body: string,
  args: string[] = [],
): Promise<string[]> {
  const script = `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
${body.trim()}
m.logout()
`;
  const out = await python(script, [String(port), user, pass, ...args]);
  return out.stdout.trim().split("\n");
}

/** Waits for an event, failing after `ms`. */
export function once<T>(emitter: ImapFlow, name: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} within ${ms} ms`)), ms);
    emitter.once(name, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}
