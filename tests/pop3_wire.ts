/**
 * A minimal raw POP3 client for tests that must see the exact wire: pipelining, dot-stuffed
 * bytes, plaintext sent after STLS, bad-input handling. Every read has a deadline, so a
 * server that stops answering fails the test instead of hanging it.
 *
 * @module
 */
import { concatBytes } from "../lib/bytes.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const LF = 0x0a;

/** One raw client connection. */
export class Pop3Wire {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #deadlineMs: number;

  private constructor(conn: Deno.Conn, deadlineMs: number) {
    this.#conn = conn;
    this.#deadlineMs = deadlineMs;
  }

  /** Connects (plain, or implicit TLS trusting `caPem`) and reads the greeting. */
  static async connect(
    port: number,
    opts: { caPem?: string; deadlineMs?: number } = {},
  ): Promise<{ client: Pop3Wire; greeting: string }> {
    const conn = opts.caPem
      ? await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [opts.caPem] })
      : await Deno.connect({ hostname: "127.0.0.1", port });
    const client = new Pop3Wire(conn, opts.deadlineMs ?? 10_000);
    return { client, greeting: await client.line() };
  }

  /** Reads more input; null at EOF. Throws when nothing arrives before the deadline. */
  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("pop3 test client: read deadline")),
        this.#deadlineMs,
      );
    });
    try {
      const n = await Promise.race([this.#conn.read(chunk), deadline]);
      if (n === null) return false;
      const next = new Uint8Array(this.#buf.length + n);
      next.set(this.#buf);
      next.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = next;
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe) {
        return false;
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One raw line including its CRLF. */
  async lineBytes(): Promise<Uint8Array> {
    for (;;) {
      const i = this.#buf.indexOf(LF);
      if (i >= 0) {
        const out = this.#buf.slice(0, i + 1);
        this.#buf = this.#buf.slice(i + 1);
        return out;
      }
      if (!await this.#fill()) throw new Error("pop3 test client: connection closed");
    }
  }

  /** One line as text, without its line end. */
  async line(): Promise<string> {
    return dec.decode(await this.lineBytes()).replace(/\r?\n$/, "");
  }

  /** Sends raw bytes or text as is. */
  async send(data: string | Uint8Array): Promise<void> {
    const b = typeof data === "string" ? enc.encode(data) : data;
    let off = 0;
    while (off < b.length) off += await this.#conn.write(b.subarray(off));
  }

  /** Sends one command line and returns the status line. */
  async cmd(line: string): Promise<string> {
    await this.send(line + "\r\n");
    return await this.line();
  }

  /** The lines of a multi-line body after its status line, un-stuffed, without the ".". */
  async multi(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === ".") return out;
      out.push(l.startsWith(".") ? l.slice(1) : l);
    }
  }

  /** The raw bytes of a multi-line body, through the terminating ".\r\n". */
  async multiRaw(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const l = await this.lineBytes();
      parts.push(l);
      if (l.length === 3 && l[0] === 0x2e && l[1] === 0x0d && l[2] === LF) break;
    }
    return concatBytes(parts);
  }

  /** Everything the server still sends until it closes the connection; then closes ours. */
  async rest(): Promise<string> {
    while (await this.#fill()) { /* keep reading */ }
    const s = dec.decode(this.#buf);
    this.#buf = new Uint8Array(0);
    this.close();
    return s;
  }

  /** Sends QUIT, returns its reply, and waits for the server to close. */
  async quit(): Promise<string> {
    const reply = await this.cmd("QUIT");
    const after = await this.rest();
    if (after !== "") throw new Error(`pop3 test client: data after QUIT: ${after}`);
    return reply;
  }

  /** Upgrades to TLS after "+OK" to STLS, trusting `caPem`. Unread plaintext is dropped. */
  async startTls(caPem: string): Promise<void> {
    this.#buf = new Uint8Array(0);
    this.#conn = await Deno.startTls(this.#conn as Deno.TcpConn, {
      hostname: "localhost",
      caCerts: [caPem],
    });
  }

  /** Logs in with USER/PASS; returns the PASS reply. */
  async login(user: string, password: string): Promise<string> {
    const u = await this.cmd(`USER ${user}`);
    if (!u.startsWith("+OK")) return u;
    return await this.cmd(`PASS ${password}`);
  }

  /** Drops the connection without QUIT. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
