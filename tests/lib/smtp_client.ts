/**
 * A minimal SMTP client for load generation and durability tests: one message per
 * connection, EHLO / MAIL / RCPT / DATA, with PIPELINING of the envelope.
 * (Functional tests use real clients: swaks, smtplib, nodemailer.)
 *
 * @module
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

class ReplyReader {
  #buf = "";
  constructor(private conn: Deno.Conn) {}

  /** Reads one (possibly multi-line) reply; returns its code and full text. */
  async reply(): Promise<{ code: number; text: string }> {
    const chunk = new Uint8Array(8192);
    for (;;) {
      const m = /^(\d{3}) [^\n]*\n/m.exec(this.#buf);
      if (m) {
        const end = m.index + m[0].length;
        const text = this.#buf.slice(0, end);
        this.#buf = this.#buf.slice(end);
        return { code: Number(m[1]), text };
      }
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error(`connection closed; buffered: ${this.#buf}`);
      this.#buf += dec.decode(chunk.subarray(0, n));
    }
  }
}

/** Dot-stuffs a CRLF message (RFC 5321 §4.5.2) and appends the terminator. */
export function dotStuff(message: Uint8Array): Uint8Array {
  const text = dec.decode(message);
  const stuffed = text.replace(/(^|\r\n)\./g, "$1..");
  const end = stuffed.endsWith("\r\n") ? ".\r\n" : "\r\n.\r\n";
  return enc.encode(stuffed + end);
}

export interface SendResult {
  code: number;
  text: string;
  /** Milliseconds from the last byte of DATA to the final reply. */
  dataToReplyMs: number;
  /** `performance.now()` just before the message and its final "." were written. */
  dataSentAt: number;
}

/** Sends one message over a new connection; resolves with the reply to the end of DATA. */
export async function sendMessage(
  opts: {
    host?: string;
    port: number;
    from: string;
    to: string[];
    message: Uint8Array;
    /** Declare the message's size at MAIL FROM (RFC 1870 SIZE=), as MTAs do. */
    declareSize?: boolean;
  },
): Promise<SendResult> {
  const conn = await Deno.connect({ hostname: opts.host ?? "127.0.0.1", port: opts.port });
  try {
    const r = new ReplyReader(conn);
    const expect = async (code: number, what: string) => {
      const rep = await r.reply();
      if (rep.code !== code) throw new Error(`${what}: expected ${code}, got ${rep.text.trim()}`);
      return rep;
    };
    await expect(220, "greeting");
    await conn.write(enc.encode("EHLO loadgen.test\r\n"));
    await expect(250, "EHLO");
    const size = opts.declareSize ? ` SIZE=${opts.message.length}` : "";
    let env = `MAIL FROM:<${opts.from}>${size}\r\n`;
    for (const t of opts.to) env += `RCPT TO:<${t}>\r\n`;
    env += "DATA\r\n";
    await conn.write(enc.encode(env));
    await expect(250, "MAIL");
    for (const _ of opts.to) await expect(250, "RCPT");
    await expect(354, "DATA");
    const data = dotStuff(opts.message);
    const dataSentAt = performance.now();
    await conn.write(data);
    const t0 = performance.now();
    const final = await r.reply();
    const dataToReplyMs = performance.now() - t0;
    await conn.write(enc.encode("QUIT\r\n")).catch(() => {});
    return { ...final, dataToReplyMs, dataSentAt };
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/** A plausible message of about `size` bytes with a unique token in its subject. */
export function makeMessage(token: string, size: number, from = "sender@example.org"): Uint8Array {
  const head = `From: <${from}>\r\nTo: <rcpt@example.test>\r\nSubject: ${token}\r\n` +
    `Message-ID: <${token}@loadgen.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop\r\n";
  let body = "";
  while (head.length + body.length + line.length <= size) body += line;
  body += `.leading dot line for ${token}\r\n`;
  return enc.encode(head + body);
}
