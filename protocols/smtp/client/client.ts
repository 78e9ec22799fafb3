/**
 * An SMTP client for outbound delivery (RFC 5321): greeting, EHLO (HELO fallback),
 * opportunistic STARTTLS (RFC 3207, RFC 7435), PIPELINING (RFC 2920), SIZE (RFC 1870),
 * 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN (RFC 3461), dot-stuffing, multi-line
 * replies, the RFC 5321 §4.5.3.2 timeouts. One client is one connection; it may carry
 * several transactions (RSET between them).
 *
 * @module
 */
import { ClientConnection } from "./connection.ts";
import { parseReply, parseReplyLine, type Reply, replyText } from "../replies.ts";
import { DeliveryError, type FailureInfo, NetworkError } from "../../../core/queue/failure.ts";
import type {
  RecipientOutcome,
  SenderOptions,
  SmtpSender,
  SmtpSession,
  Timeouts,
  TlsResult,
  Transaction,
} from "../../../core/queue/sender.ts";

/** RFC 5321 §4.5.3.2 minimums (connect: ours). */
export const DEFAULT_TIMEOUTS: Timeouts = {
  connect: 30_000,
  greeting: 300_000,
  command: 300_000,
  dataInit: 120_000,
  dataBlock: 180_000,
  dataEnd: 600_000,
};

/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets; we allow more, but bounded. */
const MAX_REPLY_LINE = 4096;
const MAX_REPLY_LINES = 200;

/** What happened to each recipient; `data` is the reply to the final dot. */
export interface TransactionResult {
  rcpts: Array<{ address: string; reply: Reply }>;
  data: Reply | null;
}

/** FailureInfo for a failing reply: 5xx permanent, 4xx temporary (RFC 5321 §4.2.1). */
export function failureFromReply(r: Reply, remoteMta: string): FailureInfo {
  const permanent = r.code >= 500;
  return {
    permanent,
    status: r.enhanced || (permanent ? "5.0.0" : "4.0.0"),
    diagnostic: replyText(r),
    remoteMta,
  };
}

function refused(r: Reply, remoteMta: string): DeliveryError {
  return new DeliveryError(failureFromReply(r, remoteMta));
}

/**
 * Per recipient: refused at RCPT, delivered (250 to the final dot), or refused at the dot.
 * A recipient accepted when no DATA reply came has no outcome.
 */
export function outcomes(res: TransactionResult, remoteMta: string): RecipientOutcome[] {
  const out: RecipientOutcome[] = [];
  for (const r of res.rcpts) {
    const ok = r.reply.code === 250 || r.reply.code === 251;
    if (!ok) out.push({ address: r.address, failure: failureFromReply(r.reply, remoteMta) });
    else if (res.data && res.data.code === 250) out.push({ address: r.address, failure: null });
    else if (res.data) {
      out.push({ address: r.address, failure: failureFromReply(res.data, remoteMta) });
    }
  }
  return out;
}

/** True when any byte has the high bit set (RFC 6152: needs 8BITMIME). */
export function has8bit(body: Uint8Array): boolean {
  for (let i = 0; i < body.length; i++) if (body[i] > 127) return true;
  return false;
}

/**
 * RFC 5321 §4.5.2: a line starting with "." gets another "."; line ends become CRLF; the
 * body ends with CRLF "." CRLF. No I/O.
 */
export function dotStuff(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + Math.ceil(body.length / 40) + 8);
  let buf = out;
  let o = 0;
  const put = (b: number) => {
    if (o >= buf.length) {
      const next = new Uint8Array(buf.length * 2);
      next.set(buf);
      buf = next;
    }
    buf[o++] = b;
  };
  let lineStart = true;
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (lineStart && b === 0x2e) put(0x2e);
    if (b === 0x0a) {
      if (o === 0 || buf[o - 1] !== 0x0d) put(0x0d);
      put(0x0a);
      lineStart = true;
      continue;
    }
    if (b === 0x0d && body[i + 1] !== 0x0a) {
      // A bare CR is not a line end (RFC 5321 §2.3.8): make it one rather than send it.
      put(0x0d);
      put(0x0a);
      lineStart = true;
      continue;
    }
    put(b);
    lineStart = false;
  }
  if (!lineStart) {
    put(0x0d);
    put(0x0a);
  }
  for (const b of [0x2e, 0x0d, 0x0a]) put(b);
  return buf.slice(0, o);
}

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/** One connection to one mail server. */
export class SmtpClient implements SmtpSession {
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  /** EHLO keywords (upper case) -> parameters. Empty after a HELO fallback. */
  extensions = new Map<string, string>();
  #t: ClientConnection;
  #timeouts: Timeouts;
  #transactions = 0;
  #broken = false;

  private constructor(
    t: ClientConnection,
    host: string,
    ip: string,
    port: number,
    timeouts: Timeouts,
  ) {
    this.#t = t;
    this.host = host;
    this.ip = ip;
    this.port = port;
    this.#timeouts = timeouts;
  }

  /** What STARTTLS gave, or null for a plaintext session. */
  get tls(): TlsResult | null {
    return this.#t.tls;
  }

  /** The certificates presented after STARTTLS (DER, leaf first). */
  get peerChain(): Uint8Array[] {
    return this.#t.peerChain;
  }

  /** Usable for another transaction. */
  get usable(): boolean {
    return !this.#broken;
  }

  /**
   * Connects, reads the greeting, says EHLO and upgrades with STARTTLS when offered.
   * Throws DeliveryError (a failing reply) or NetworkError (network).
   */
  static async open(
    host: string,
    ip: string,
    port: number,
    opts: SenderOptions,
  ): Promise<SmtpClient> {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    const t = await ClientConnection.connect(ip, port, timeouts.connect);
    const c = new SmtpClient(t, host, ip, port, timeouts);
    try {
      // RFC 5321 §3.1: the greeting is 220; 554 means "no service here".
      const greeting = await c.#read(timeouts.greeting);
      if (greeting.code !== 220) throw refused(greeting, host);
      await c.#hello(opts.helo);
      if (opts.starttls !== false && c.extensions.has("STARTTLS")) {
        const r = await c.#command("STARTTLS", timeouts.command);
        // RFC 3207 §4: 220 to go ahead; anything else: carry on in plaintext (opportunistic).
        if (r.code === 220) {
          await t.upgradeTls(host, timeouts.command, opts.ca);
          // RFC 3207 §4.2: forget everything learned before TLS; EHLO again.
          await c.#hello(opts.helo);
        }
      }
      return c;
    } catch (e) {
      t.close();
      throw e;
    }
  }

  async #hello(helo: string): Promise<void> {
    let r = await this.#command(`EHLO ${helo}`, this.#timeouts.command);
    this.extensions.clear();
    if (r.code === 250) {
      for (const line of r.lines.slice(1)) {
        const [kw, ...rest] = line.trim().split(/\s+/);
        if (kw) this.extensions.set(kw.toUpperCase(), rest.join(" "));
      }
      return;
    }
    // RFC 5321 §3.2: a server that does not know EHLO answers 5xx; fall back to HELO.
    if (r.code >= 500) r = await this.#command(`HELO ${helo}`, this.#timeouts.command);
    if (r.code !== 250) throw refused(r, this.host);
  }

  /** Reads one (possibly multi-line) reply. A malformed reply is a NetworkError. */
  async #read(timeoutMs: number): Promise<Reply> {
    const lines: string[] = [];
    let code = 0;
    try {
      for (;;) {
        const line = await this.#t.readLine(MAX_REPLY_LINE, timeoutMs);
        const p = parseReplyLine(line);
        // RFC 5321 §4.2.1: every line of a multi-line reply carries the same code.
        if (!p || (code && p[0] !== code)) {
          throw new NetworkError(`malformed reply: ${line.slice(0, 80)}`);
        }
        code = p[0];
        lines.push(p[2]);
        if (!p[1]) break;
        if (lines.length > MAX_REPLY_LINES) throw new NetworkError("reply has too many lines");
      }
    } catch (e) {
      this.#broken = true;
      throw e;
    }
    const r = parseReply(code, lines);
    // RFC 5321 §3.8: 421 means the server is closing the channel.
    if (code === 421) this.#broken = true;
    return r;
  }

  async #write(data: string | Uint8Array, timeoutMs: number): Promise<void> {
    try {
      await this.#t.write(data, timeoutMs);
    } catch (e) {
      this.#broken = true;
      throw e;
    }
  }

  async #command(line: string, timeoutMs: number): Promise<Reply> {
    await this.#write(`${line}\r\n`, timeoutMs);
    return await this.#read(timeoutMs);
  }

  /**
   * Runs one mail transaction. Per-recipient replies come back in the result; a failure
   * that concerns every recipient (MAIL, DATA, a local check) throws DeliveryError.
   */
  async send(tx: Transaction): Promise<RecipientOutcome[]> {
    return outcomes(await this.transact(tx), this.host);
  }

  /** `send` with the raw replies. */
  async transact(tx: Transaction): Promise<TransactionResult> {
    if (this.#transactions++ > 0) {
      // RFC 5321 §4.1.1.5: RSET before reusing the connection for another message.
      const r = await this.#command("RSET", this.#timeouts.command);
      if (r.code !== 250) throw refused(r, this.host);
    }
    const ext = this.extensions;
    const mailParams: string[] = [];
    // RFC 1870 §6.1: do not send what the server said it will not take.
    if (ext.has("SIZE")) {
      const max = Number(ext.get("SIZE") || "0");
      if (max > 0 && tx.body.length > max) {
        throw new DeliveryError({
          permanent: true,
          status: "5.3.4",
          diagnostic:
            `552 5.3.4 message size ${tx.body.length} exceeds ${this.host}'s limit ${max}`,
          remoteMta: this.host,
        });
      }
      mailParams.push(`SIZE=${tx.body.length}`);
    }
    const utf8 = tx.smtputf8 || NON_ASCII.test(tx.sender) ||
      tx.recipients.some((r) => NON_ASCII.test(r.address));
    if (utf8) {
      // RFC 6531 §3.2: without SMTPUTF8 at the server, non-ASCII addresses cannot be sent.
      if (!ext.has("SMTPUTF8")) {
        throw new DeliveryError({
          permanent: true,
          status: "5.6.7",
          diagnostic: `553 5.6.7 ${this.host} does not support SMTPUTF8`,
          remoteMta: this.host,
        });
      }
      mailParams.push("SMTPUTF8");
    }
    // RFC 6152 §3: BODY=8BITMIME only to a server that offers it. A server that does not
    // gets the bytes as they are (what most MTAs do; RFC 6152 §3 allows no downgrade here).
    if (ext.has("8BITMIME") && has8bit(tx.body)) mailParams.push("BODY=8BITMIME");
    // RFC 8689 §4.2.1: REQUIRETLS goes on to a server that offers it.
    if (tx.requireTls && ext.has("REQUIRETLS")) mailParams.push("REQUIRETLS");
    const dsn = ext.has("DSN");
    // RFC 3461 §4.3, §4.4: RET and ENVID only to a server that offers DSN.
    if (dsn && tx.ret) mailParams.push(`RET=${tx.ret}`);
    if (dsn && tx.envid) mailParams.push(`ENVID=${tx.envid}`);
    const mail = `MAIL FROM:<${tx.sender}>${mailParams.map((p) => " " + p).join("")}`;
    const rcpts = tx.recipients.map((r) => {
      const p: string[] = [];
      if (dsn && r.notify?.length) p.push(`NOTIFY=${r.notify.join(",")}`);
      if (dsn && r.orcpt) p.push(`ORCPT=${r.orcpt}`);
      return `RCPT TO:<${r.address}>${p.map((x) => " " + x).join("")}`;
    });
    const t = this.#timeouts;
    const result: TransactionResult = { rcpts: [], data: null };
    let mailReply: Reply;
    let dataReply: Reply;
    if (ext.has("PIPELINING")) {
      // RFC 2920 §3.1: MAIL, RCPTs and DATA go in one batch; replies come in order.
      await this.#write([mail, ...rcpts, "DATA"].join("\r\n") + "\r\n", t.command);
      mailReply = await this.#read(t.command);
      for (const r of tx.recipients) {
        result.rcpts.push({ address: r.address, reply: await this.#read(t.command) });
      }
      dataReply = await this.#read(t.dataInit);
      if (mailReply.code !== 250) {
        if (dataReply.code === 354) await this.#abortData();
        throw refused(mailReply, this.host);
      }
    } else {
      mailReply = await this.#command(mail, t.command);
      if (mailReply.code !== 250) throw refused(mailReply, this.host);
      for (const [i, r] of tx.recipients.entries()) {
        result.rcpts.push({ address: r.address, reply: await this.#command(rcpts[i], t.command) });
      }
      if (!result.rcpts.some((r) => r.reply.code === 250 || r.reply.code === 251)) {
        return result; // RFC 5321 §3.3: no accepted recipient, no DATA.
      }
      dataReply = await this.#command("DATA", t.dataInit);
    }
    const accepted = result.rcpts.some((r) => r.reply.code === 250 || r.reply.code === 251);
    if (dataReply.code !== 354) {
      if (!accepted) return result;
      throw refused(dataReply, this.host);
    }
    if (!accepted) {
      // RFC 2920 §3.1: DATA got 354 though no recipient was accepted: send an empty body.
      await this.#abortData();
      return result;
    }
    await this.#write(dotStuff(tx.body), t.dataBlock);
    result.data = await this.#read(t.dataEnd);
    return result;
  }

  /** Ends a DATA that must not carry the message (RFC 2920 §3.1). */
  async #abortData(): Promise<void> {
    await this.#write(".\r\n", this.#timeouts.dataBlock);
    await this.#read(this.#timeouts.dataEnd);
  }

  /** RFC 5321 §4.1.1.10: QUIT, then close (errors ignored: we are leaving anyway). */
  async quit(): Promise<void> {
    try {
      if (!this.#broken) await this.#command("QUIT", 5000);
    } catch { /* closing anyway */ }
    this.#broken = true;
    this.#t.close();
  }

  /** Closes without QUIT. */
  close(): void {
    this.#broken = true;
    this.#t.close();
  }
}

/** The SmtpSender the queue is given (app/server.ts). */
export const smtpSender: SmtpSender = {
  open: (host, ip, port, opts) => SmtpClient.open(host, ip, port, opts),
};
