/**
 * Recent activity for the admin console: deliveries, refusals (unknown recipient, relay
 * attempts, plugin rejects, spam), failed logins and throttled addresses, with per-hour
 * counts for the charts.
 *
 * Fed by a tap on the structured log (lib/log.ts): every one of those events is already
 * logged at exactly one place ("every refusal logged": Session.reply's "refused", each
 * protocol's "login failed", the throttle, the queue's "done"/"bounce sent", "accepted"),
 * so the console sees what the log says, whatever the log level, without a second call at
 * each point.
 *
 * Why an in-memory ring per node, not a table: these events come at the rate of refusals
 * (a spam run, a password-guessing bot), and writing each to the database would turn every
 * refused RCPT into a durable write — load an attacker controls. The ring is bounded
 * (CAPACITY events, hourly counts for HOURS hours), costs no migration, and is lost at a
 * restart; in a cluster each node shows its own (the durable record is the log itself).
 *
 * @module
 */

export type ActivityKind =
  | "received"
  | "submitted"
  | "spam"
  | "delivered"
  | "deferred"
  | "bounced"
  | "bounce_sent"
  | "refused"
  | "login_failed"
  | "throttled";

export interface ActivityEvent {
  id: number;
  at: number;
  kind: ActivityKind;
  /** refused: unknown_recipient, relay, plugin, spam, other. */
  reason?: string;
  protocol: string;
  ip: string;
  /** The addresses concerned (sender, recipients, login), for search. */
  addresses: string[];
  /** The SMTP message id or queue id. */
  message: string;
  /** A short human line (the reply, the plugin results, the last error). */
  detail: string;
  /** Recipients delivered (queue events), for the "out" count. */
  count?: number;
}

export interface HourCounts {
  /** Start of the hour, ms since the epoch. */
  hour: number;
  in: number;
  out: number;
  spam: number;
  refused: number;
  loginFailed: number;
}

export interface ActivityQuery {
  kind?: string;
  /** Matches the ip exactly or as a prefix ("192.0.2."). */
  ip?: string;
  /** Matched case-insensitively as a substring of any address. */
  address?: string;
  /** Matched as a substring of the message id. */
  message?: string;
  /** Only events with an id below this (paging, newest first). */
  before?: number;
  limit: number;
}

/** Events kept. */
export const CAPACITY = 5000;
/** Hours of counts kept (the charts show a day). */
export const HOURS = 48;
const HOUR_MS = 3_600_000;

type Fields = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const list = (v: unknown) => str(v).split(",").map((s) => s.trim()).filter((s) => s !== "");

/** The ring. One per server (app/server.ts), fed by `observe`. */
export class ActivityLog {
  #events: ActivityEvent[] = [];
  #start = 0;
  #nextId = 1;
  #hours = new Map<number, HourCounts>();

  constructor(readonly capacity = CAPACITY, readonly now: () => number = Date.now) {}

  add(e: Omit<ActivityEvent, "id" | "at">): ActivityEvent {
    const event = { ...e, id: this.#nextId++, at: this.now() };
    if (this.#events.length < this.capacity) this.#events.push(event);
    else {
      this.#events[this.#start] = event;
      this.#start = (this.#start + 1) % this.capacity;
    }
    this.#count(event);
    return event;
  }

  #count(e: ActivityEvent): void {
    const hour = Math.floor(e.at / HOUR_MS) * HOUR_MS;
    let h = this.#hours.get(hour);
    if (!h) {
      this.#hours.set(hour, h = { hour, in: 0, out: 0, spam: 0, refused: 0, loginFailed: 0 });
      for (const k of this.#hours.keys()) if (k <= hour - HOURS * HOUR_MS) this.#hours.delete(k);
    }
    if (e.kind === "received") h.in++;
    else if (e.kind === "spam") {
      h.in++;
      h.spam++;
    } else if (e.kind === "delivered" || e.kind === "bounced") h.out += e.count ?? 0;
    else if (e.kind === "refused") {
      h.refused++;
      if (e.reason === "spam") h.spam++;
    } else if (e.kind === "login_failed") h.loginFailed++;
  }

  /** Newest first, filtered. */
  query(q: ActivityQuery): ActivityEvent[] {
    const out: ActivityEvent[] = [];
    const address = q.address?.toLowerCase();
    const n = this.#events.length;
    for (let i = n - 1; i >= 0 && out.length < q.limit; i--) {
      const e = this.#events[(this.#start + i) % n];
      if (q.before !== undefined && e.id >= q.before) continue;
      if (q.kind && e.kind !== q.kind) continue;
      if (q.ip && !e.ip.startsWith(q.ip)) continue;
      if (q.message && !e.message.includes(q.message)) continue;
      if (address && !e.addresses.some((a) => a.toLowerCase().includes(address))) continue;
      out.push(e);
    }
    return out;
  }

  /** The last `hours` hours, oldest first, empty hours included. */
  hourly(hours = 24): HourCounts[] {
    const now = Math.floor(this.now() / HOUR_MS) * HOUR_MS;
    const out: HourCounts[] = [];
    for (let i = hours - 1; i >= 0; i--) {
      const hour = now - i * HOUR_MS;
      out.push(
        this.#hours.get(hour) ?? { hour, in: 0, out: 0, spam: 0, refused: 0, loginFailed: 0 },
      );
    }
    return out.map((h) => ({ ...h }));
  }

  /** The log tap (lib/log.ts `addLogTap`): turns the log events listed above into events. */
  readonly observe = (category: string, msg: string, f: Fields = {}): void => {
    const e = classify(category, msg, f);
    if (e) this.add(e);
  };
}

/** Why an SMTP command was refused, from its reply and what the session knew. */
export function refusalReason(f: Fields): string {
  const reply = str(f.reply);
  const text = str(f.text).toLowerCase();
  if (f.plugin) return /spam/i.test(str(f.plugin)) || text.includes("spam") ? "spam" : "plugin";
  if (reply === "550 5.1.1") return "unknown_recipient";
  if (reply.startsWith("550 5.7.1") && text.includes("relay")) return "relay";
  return "other";
}

/** One log event as activity, or null for the events the console does not show. */
function classify(
  category: string,
  msg: string,
  f: Fields,
): Omit<ActivityEvent, "id" | "at"> | null {
  const base = { protocol: category, ip: str(f.ip), message: "", detail: "", addresses: [] };
  if (msg === "login failed") {
    return {
      ...base,
      kind: "login_failed",
      addresses: [str(f.login)],
      detail: `${str(f.how)} ${str(f.reason)}`.trim(),
    };
  }
  if (category === "auth" && msg === "address throttled after failed logins") {
    return {
      ...base,
      kind: "throttled",
      addresses: [str(f.account)],
      detail: `${str(f.failures)} failures; waits ${Math.round(Number(f.wait_ms) / 1000)} s`,
    };
  }
  if (category === "smtp" && msg === "refused") {
    // A failed SMTP AUTH (RFC 4954 §6: 535) is a failed login like IMAP's.
    if (str(f.reply).startsWith("535")) {
      return { ...base, kind: "login_failed", addresses: [str(f.login)], detail: "smtp auth" };
    }
    return {
      ...base,
      kind: "refused",
      reason: refusalReason(f),
      addresses: [str(f.address), str(f.from), str(f.user)].filter((a) => a && a !== "<>"),
      message: str(f.id),
      detail: `${str(f.cmd)} ${str(f.reply)} ${str(f.text)}`.trim(),
    };
  }
  if (category === "smtp" && msg === "accepted") {
    const spam = /^junk$/i.test(str(f.mailbox));
    return {
      ...base,
      kind: spam ? "spam" : f.user ? "submitted" : "received",
      addresses: [str(f.from), ...list(f.to)].filter((a) => a !== ""),
      message: str(f.id),
      detail: [str(f.size) && `${str(f.size)} bytes`, str(f.plugins)].filter((x) => x).join(", "),
    };
  }
  if (category === "queue" && (msg === "done" || msg === "deferred")) {
    const delivered = Number(f.delivered ?? 0);
    const failed = Number(f.failed ?? 0);
    return {
      ...base,
      kind: msg === "done" && failed === 0 ? "delivered" : msg === "done" ? "bounced" : "deferred",
      count: delivered,
      addresses: list(f.to),
      message: [str(f.message), `queue ${str(f.id)}`].filter((x) => x).join(" "),
      detail: `${delivered} delivered, ${failed} failed, ${str(f.pending) || 0} pending` +
        (f.lastError ? `; ${str(f.lastError)}` : ""),
    };
  }
  if (category === "queue" && msg === "bounce sent") {
    return {
      ...base,
      kind: "bounce_sent",
      addresses: [str(f.to), ...list(f.recipients)],
      message: [str(f.message), `queue ${str(f.id)}`].filter((x) => x).join(" "),
      detail: `bounce sent to ${str(f.to)}`,
    };
  }
  return null;
}
