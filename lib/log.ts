/**
 * One line per event on stderr. DENOMAIL_LOG=debug|info|warn|error sets the level,
 * DENOMAIL_LOG_FORMAT=json switches to JSON lines (text is the default); any other value is
 * a usage error (checkLogEnv). Never log passwords or message bodies.
 *
 * @module
 */

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function envLevel(): Level {
  try {
    const v = Deno.env.get("DENOMAIL_LOG")?.toLowerCase();
    if (v && v in ORDER) return v as Level;
  } catch { /* no env permission */ }
  return "info";
}

function envJson(): boolean {
  try {
    return Deno.env.get("DENOMAIL_LOG_FORMAT")?.toLowerCase() === "json";
  } catch {
    return false;
  }
}

const FORMATS = ["text", "json"];

/**
 * A DENOMAIL_LOG or DENOMAIL_LOG_FORMAT value that is not allowed, as a one-line error
 * (the CLI exits 2 with it), or null. Unset or empty means the default.
 */
export function checkLogEnv(): string | null {
  let level: string | undefined, format: string | undefined;
  try {
    level = Deno.env.get("DENOMAIL_LOG");
    format = Deno.env.get("DENOMAIL_LOG_FORMAT");
  } catch {
    return null; // no env permission: the defaults apply
  }
  if (level && !(level.toLowerCase() in ORDER)) {
    return `DENOMAIL_LOG=${level} is not a level; use one of ${Object.keys(ORDER).join(", ")}`;
  }
  if (format && !FORMATS.includes(format.toLowerCase())) {
    return `DENOMAIL_LOG_FORMAT=${format} is not a format; use one of ${FORMATS.join(", ")}`;
  }
  return null;
}

const encoder = new TextEncoder();

/** Sees one log event: its category, message and fields. */
export type LogTap = (category: string, msg: string, fields?: Record<string, unknown>) => void;

class Logger {
  level: Level = envLevel();
  json = envJson();

  enabled(level: Level): boolean {
    return ORDER[level] >= ORDER[this.level];
  }

  /** Listeners that see every event, whatever the level (core/activity.ts). */
  #taps = new Set<LogTap>();

  /** Adds a tap; returns the function that removes it. A throwing tap is ignored. */
  addTap(tap: LogTap): () => void {
    this.#taps.add(tap);
    return () => this.#taps.delete(tap);
  }

  write(level: Level, category: string, msg: string, fields?: Record<string, unknown>): void {
    for (const tap of this.#taps) {
      try {
        tap(category, msg, fields);
      } catch { /* a tap never breaks logging */ }
    }
    if (!this.enabled(level)) return;
    const ts = new Date().toISOString();
    let line: string;
    if (this.json) {
      line = JSON.stringify({ ts, level, category, msg, ...fields });
    } else {
      const extra = fields
        ? " " + Object.entries(fields).map(([k, v]) => `${k}=${fmt(v)}`).join(" ")
        : "";
      line = `${ts} ${level.toUpperCase().padEnd(5)} [${category}] ${msg}${extra}`;
    }
    try {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    } catch { /* stderr gone */ }
  }

  debug(cat: string, msg: string, fields?: Record<string, unknown>) {
    this.write("debug", cat, msg, fields);
  }
  info(cat: string, msg: string, fields?: Record<string, unknown>) {
    this.write("info", cat, msg, fields);
  }
  warn(cat: string, msg: string, fields?: Record<string, unknown>) {
    this.write("warn", cat, msg, fields);
  }
  error(cat: string, msg: string, fields?: Record<string, unknown>) {
    this.write("error", cat, msg, fields);
  }
}

function fmt(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/**
 * Text from a client (an address, a login name) made fit for one log line: control
 * characters replaced, length bounded so a hostile client cannot flood the log.
 */
export function clientText(text: string, max = 320): string {
  // deno-lint-ignore no-control-regex
  const s = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  return s.length > max ? s.slice(0, max) + "…" : s;
}

/**
 * The SMTP message id of a queue entry, for the queue's log lines (CONTRACT, Logging: the
 * "accepted" line and the queue's lines share one id; the accepted line also names the
 * queue id).
 */
export function messageRef(entry: { meta: Record<string, unknown> }): { message?: string } {
  return typeof entry.meta.messageId === "string" ? { message: entry.meta.messageId } : {};
}

// Process-wide on purpose: it only makes session ids unique in this process's log.
let sessions = 0;

/** A short id for one connection's session ("imap-1f"): every log line of it carries it. */
export function newSessionId(protocol: string): string {
  return `${protocol}-${(++sessions).toString(36)}`;
}

/** The process-wide logger. */
export const log = new Logger();
