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

class Logger {
  level: Level = envLevel();
  json = envJson();

  enabled(level: Level): boolean {
    return ORDER[level] >= ORDER[this.level];
  }

  write(level: Level, category: string, msg: string, fields?: Record<string, unknown>): void {
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

/** The process-wide logger. */
export const log = new Logger();
