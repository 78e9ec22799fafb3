/**
 * The wire between the plugin host and a plugin runner: one JSON object per line on the
 * runner's stdin (host -> runner) and stdout (runner -> host). Calls carry ids, so many
 * may be in flight at once (pipelined); answers may come back in any order.
 *
 * Message bytes travel as base64 in `message.raw`. Nothing here does I/O.
 *
 * @module
 */
import type { HeaderField, HookName, HookResult } from "./sdk.ts";

/** host -> runner: the first line; the runner answers `ready` or `fatal`. */
export interface InitMsg {
  t: "init";
  name: string;
  options: Record<string, unknown>;
}

/** host -> runner: run one hook. */
export interface CallMsg {
  t: "call";
  id: number;
  hook: HookName;
  /** The hook context as plain data (see {@link WireMessage} for `message`). */
  ctx: Record<string, unknown>;
}

/** host -> runner: the answer to a service request. */
export interface SvcReplyMsg {
  t: "svc_ok" | "svc_err";
  id: number;
  value?: unknown;
  error?: string;
}

export type HostToRunner = InitMsg | CallMsg | SvcReplyMsg;

/** runner -> host: the module loaded; these are the hooks it declares. */
export interface ReadyMsg {
  t: "ready";
  hooks: HookName[];
}

/** runner -> host: the module could not be loaded or is not a plugin; the runner exits. */
export interface FatalMsg {
  t: "fatal";
  error: string;
}

/** runner -> host: a hook finished. */
export interface ResultMsg {
  t: "result";
  id: number;
  result: WireResult | null;
}

/** runner -> host: a hook threw. */
export interface ErrorMsg {
  t: "error";
  id: number;
  error: string;
}

/** Host services reachable by message. */
export type SvcOp = "kv.get" | "kv.set" | "kv.incr" | "kv.delete" | "dns.resolve";

/** runner -> host: a service request (its id space is the runner's own). */
export interface SvcMsg {
  t: "svc";
  id: number;
  op: SvcOp;
  args: unknown[];
}

export type RunnerToHost = ReadyMsg | FatalMsg | ResultMsg | ErrorMsg | SvcMsg;

/** A message as it crosses the wire. */
export interface WireMessage {
  headers: HeaderField[];
  /** base64 of the whole message. */
  raw: string;
}

/** A HookResult as it crosses the wire: `body` and `message` are base64 (`bodyB64`, `messageB64`). */
export type WireResult = Omit<HookResult, "body" | "message"> & {
  bodyB64?: string;
  messageB64?: string;
};

const SVC_OPS = new Set<string>(["kv.get", "kv.set", "kv.incr", "kv.delete", "dns.resolve"]);

/**
 * Parses one line from a runner. Returns null for anything that is not a well-formed
 * protocol message (a plugin printing to stdout, say): the host logs those and moves on.
 */
export function parseRunnerLine(line: string): RunnerToHost | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const m = v as Record<string, unknown>;
  switch (m.t) {
    case "ready":
      return Array.isArray(m.hooks) && m.hooks.every((h) => typeof h === "string")
        ? m as unknown as ReadyMsg
        : null;
    case "fatal":
      return typeof m.error === "string" ? m as unknown as FatalMsg : null;
    case "result":
      return Number.isSafeInteger(m.id) &&
          (m.result === null || (typeof m.result === "object" && !Array.isArray(m.result)))
        ? m as unknown as ResultMsg
        : null;
    case "error":
      return Number.isSafeInteger(m.id) && typeof m.error === "string"
        ? m as unknown as ErrorMsg
        : null;
    case "svc":
      return Number.isSafeInteger(m.id) && typeof m.op === "string" && SVC_OPS.has(m.op) &&
          Array.isArray(m.args)
        ? m as unknown as SvcMsg
        : null;
    default:
      return null;
  }
}

/** Encodes a host -> runner message as one line (JSON never contains a raw newline). */
export function encodeLine(msg: HostToRunner | RunnerToHost): string {
  return JSON.stringify(msg) + "\n";
}

/** Bytes -> base64. */
export function toBase64(bytes: Uint8Array): string {
  return (bytes as Uint8Array & { toBase64(): string }).toBase64();
}

/** base64 -> bytes. */
export function fromBase64(s: string): Uint8Array {
  return (Uint8Array as unknown as { fromBase64(s: string): Uint8Array }).fromBase64(s);
}

/**
 * Splits a stream of text chunks into lines, looking at each character once. A line that
 * spans many chunks (a message of several MB as base64) is kept as pieces and joined when
 * its newline arrives; `buf += chunk` then `buf.indexOf("\n")` would flatten and rescan the
 * whole buffer for every chunk, which is quadratic (seconds for a 10 MB message).
 */
export class LineSplitter {
  #parts: string[] = [];
  #pending = 0;

  /** Characters held for a line whose newline has not arrived yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Feeds one chunk; returns the lines it completed, without their "\n". */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf("\n", start)) >= 0) {
      this.#parts.push(chunk.slice(start, nl));
      lines.push(this.#parts.length === 1 ? this.#parts[0] : this.#parts.join(""));
      this.#parts = [];
      this.#pending = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#parts.push(start === 0 ? chunk : chunk.slice(start));
      this.#pending += chunk.length - start;
    }
    return lines;
  }

  /** Drops the partial line. */
  reset(): void {
    this.#parts = [];
    this.#pending = 0;
  }
}
