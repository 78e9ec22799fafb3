/**
 * Minimal byte-exact clients for the live message fuzzer: SMTP delivery with byte-level
 * dot-stuffing, and an IMAP reader that checks every response is well formed (each line an
 * untagged, continuation or tagged response; literals exactly as long as announced;
 * parentheses balanced outside strings and literals).
 *
 * @module
 */
const enc = new TextEncoder();
const dec = new TextDecoder("latin1");

/** Buffered reads of lines and exact byte counts over a connection, with a deadline. */
export class Reader {
  #buf = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn, readonly timeoutMs = 60_000) {}

  async #fill(deadline: number): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    const left = deadline - performance.now();
    if (left <= 0) throw new Error("timeout");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      this.conn.read(chunk),
      new Promise<"t">((r) => timer = setTimeout(() => r("t"), left)),
    ]).finally(() => clearTimeout(timer));
    if (n === "t") throw new Error("timeout");
    if (n === null) throw new Error("connection closed");
    const b = new Uint8Array(this.#buf.length + n);
    b.set(this.#buf);
    b.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = b;
  }

  /** One line without its CRLF (latin1). */
  async line(deadline = performance.now() + this.timeoutMs): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const l = dec.decode(this.#buf.subarray(0, i > 0 && this.#buf[i - 1] === 13 ? i - 1 : i));
        this.#buf = this.#buf.subarray(i + 1);
        return l;
      }
      await this.#fill(deadline);
    }
  }

  async bytes(n: number, deadline = performance.now() + this.timeoutMs): Promise<Uint8Array> {
    while (this.#buf.length < n) await this.#fill(deadline);
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
}

/** Writes every byte: `Conn.write` may take only part of a large buffer. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

/** RFC 5321 §4.5.2 on bytes: a "." at a line start doubled; CRLF.CRLF appended. */
export function dotStuffBytes(m: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < m.length; i++) {
    if (m[i] === 0x2e && (i === 0 || m[i - 1] === 10)) out.push(0x2e);
    out.push(m[i]);
  }
  if (!(m.length >= 2 && m[m.length - 2] === 13 && m[m.length - 1] === 10)) out.push(13, 10);
  out.push(0x2e, 13, 10);
  return new Uint8Array(out);
}

/** SMTP replies: code and text of a (multi-line) reply. */
export async function smtpReply(r: Reader): Promise<{ code: number; text: string }> {
  let text = "";
  for (;;) {
    const l = await r.line();
    text += l + "\n";
    if (l[3] !== "-") return { code: Number(l.slice(0, 3)), text };
  }
}

/** Delivers `message` over one SMTP connection; the final reply to DATA (or the refusal). */
export async function smtpDeliver(
  port: number,
  from: string,
  to: string,
  message: Uint8Array,
): Promise<{ code: number; text: string; stage: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const r = new Reader(conn);
  try {
    await smtpReply(r);
    for (
      const [stage, cmd, want] of [
        ["EHLO", "EHLO fuzz.test", 250],
        ["MAIL", `MAIL FROM:<${from}>`, 250],
        ["RCPT", `RCPT TO:<${to}>`, 250],
        ["DATA", "DATA", 354],
      ] as const
    ) {
      await writeAll(conn, enc.encode(cmd + "\r\n"));
      const rep = await smtpReply(r);
      if (rep.code !== want) return { ...rep, stage };
    }
    await writeAll(conn, dotStuffBytes(message));
    const rep = await smtpReply(r);
    await conn.write(enc.encode("QUIT\r\n")).catch(() => {});
    return { ...rep, stage: "end of DATA" };
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** One IMAP response: its text with each literal replaced by `{n}`, and the literals. */
export interface ImapResponse {
  text: string;
  literals: Uint8Array[];
}

/** An IMAP connection that checks the shape of every response it reads. */
export class Imap {
  #n = 0;
  readonly r: Reader;
  constructor(readonly conn: Deno.Conn) {
    this.r = new Reader(conn);
  }

  static async open(port: number, user: string, pass: string): Promise<Imap> {
    const c = new Imap(await Deno.connect({ hostname: "127.0.0.1", port }));
    await c.r.line();
    const login = await c.cmd(`LOGIN "${user}" "${pass}"`);
    if (!/^\S+ OK/.test(login.status)) throw new Error(`login: ${login.status}`);
    return c;
  }

  async #response(): Promise<ImapResponse> {
    let text = "";
    const literals: Uint8Array[] = [];
    for (;;) {
      const l = await this.r.line();
      const m = /\{(\d+)\+?\}$/.exec(l);
      text += l;
      if (!m) return { text, literals };
      literals.push(await this.r.bytes(Number(m[1])));
    }
  }

  /** Sends a command (literals sent synchronising); the responses and the tagged status. */
  async cmd(
    line: string,
    literal?: Uint8Array,
  ): Promise<{ untagged: ImapResponse[]; status: string; problems: string[] }> {
    const tag = `f${++this.#n}`;
    const untagged: ImapResponse[] = [];
    const problems: string[] = [];
    if (literal) {
      await this.conn.write(enc.encode(`${tag} ${line} {${literal.length}}\r\n`));
      const cont = await this.#response();
      if (!cont.text.startsWith("+")) return { untagged, status: cont.text, problems };
      await writeAll(this.conn, literal);
      await this.conn.write(enc.encode("\r\n"));
    } else await this.conn.write(enc.encode(`${tag} ${line}\r\n`));
    for (;;) {
      const resp = await this.#response();
      if (resp.text.startsWith(tag + " ")) {
        if (!/^\S+ (OK|NO|BAD)( |$)/.test(resp.text)) problems.push(`bad status ${resp.text}`);
        return { untagged, status: resp.text, problems };
      }
      if (!resp.text.startsWith("* ")) {
        problems.push(`not a response: ${resp.text.slice(0, 120)}`);
      } else if (/^\* \d+ FETCH /.test(resp.text) && !balanced(resp.text)) {
        problems.push(`unbalanced: ${resp.text.slice(0, 200)}`);
      }
      untagged.push(resp);
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** Parentheses balanced outside quoted strings (literals were already cut out). */
export function balanced(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (i >= text.length) return false;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return false;
  }
  return depth === 0;
}
