/**
 * The wire between the plugin host and a plugin runner, on a Unix socket (process
 * mode, see ipc_connect.ts) or the runner's stdin (host -> runner) and stdout (runner ->
 * host): a sequence of frames, each one JSON object on one
 * line, followed by `bin` raw bytes when the object has a `bin` field. Calls carry ids, so
 * many may be in flight at once (pipelined); answers may come back in any order.
 *
 * Message bytes travel raw in the frame's payload, never inside the JSON: a call's payload
 * is the message (its `ctx.message` is `{ bin: true }`); a result's payload is each entry's
 * new body then new message (`bodyLen`, `messageLen`). No base64, no UTF-8 pass over the message:
 * this is what keeps a hook call cheap (see `deno task bench plugins`). Nothing here does
 * I/O.
 *
 * @module
 */
import { type HookName, type HookResult, MESSAGE_HOOKS, READS, type Reads } from "../sdk.ts";
import { concatBytes } from "../../lib/bytes.ts";

/** One plugin of a runner process (a process runs one plugin, or a `group` of them). */
export interface MemberInit {
  name: string;
  options: Record<string, unknown>;
  /** What a failure of this plugin means for the plugins after it in a call. */
  onError: "tempfail" | "continue";
}

/** host -> runner: the first line; the runner answers `ready` or `fatal`. */
export interface InitMsg {
  t: "init";
  /** The process's plugins, in config order; frames name them by index. */
  plugins: MemberInit[];
}

/**
 * A call's `ctx.message`: `bin` when the payload is the message (or, with `reads:
 * "headers"`, its header block only); `reads: "envelope"`: no payload at all. `size` is the
 * whole message's when less than all of it was sent (sdk.ts `Reads`).
 */
export interface WireMessage {
  bin?: boolean;
  reads?: "envelope" | "headers";
  size?: number;
}

/**
 * host -> runner: run one hook on `members` (indexes into `init.plugins`), in that order,
 * as the host would (see runner_core.ts): each sees the results, score and message changes
 * of those before it, and the first verdict that is not "continue" (or a failure under
 * `on_error = "tempfail"`) ends the call. One member is the common case; several are
 * consecutive plugins of one group, asked in one round trip.
 */
export interface CallMsg {
  t: "call";
  id: number;
  hook: HookName;
  members: number[];
  /** The hook context as plain data; `message: { bin: true }` when the payload is one. */
  ctx: Record<string, unknown>;
  /** Payload length: the message bytes. */
  bin?: number;
  /** Per member (same order): the id of a `prepare` sent earlier for this message, or null. */
  prepared?: (number | null)[];
}

/**
 * host -> runner: run member `p`'s `prepare[hook]` for a call that will come (in the same
 * id space as calls); nothing is answered. The value waits for a call naming it in
 * `prepared`, or for a `drop`.
 */
export interface PrepareMsg {
  t: "prepare";
  id: number;
  p: number;
  hook: HookName;
  ctx: Record<string, unknown>;
  bin?: number;
}

/** host -> runner: the prepared value `id` will not be asked for (forget it). */
export interface DropMsg {
  t: "drop";
  id: number;
}

/** host -> runner: the answer to a service request. */
export interface SvcReplyMsg {
  t: "svc_ok" | "svc_err";
  id: number;
  value?: unknown;
  error?: string;
}

export type HostToRunner = InitMsg | CallMsg | PrepareMsg | DropMsg | SvcReplyMsg;

/** runner -> host: the modules loaded; the hooks each declares (same order as init). */
export interface ReadyMsg {
  t: "ready";
  plugins: Array<{
    hooks: HookName[];
    prepares?: HookName[];
    /** Per message hook: what the plugin reads (sdk.ts `Reads`); absent: "message". */
    reads?: Partial<Record<HookName, Reads>>;
    /** The plugin declared `early` and has a data hook (sdk.ts `Early`). */
    early?: boolean;
  }>;
}

/** runner -> host: the module could not be loaded or is not a plugin; the runner exits. */
export interface FatalMsg {
  t: "fatal";
  error: string;
}

/**
 * What one member of a call came to: its result (null: continue) or what it threw, and how
 * long it took. The payload of a result frame is each entry's `bodyLen` then `messageLen`
 * bytes, entry after entry.
 */
export interface CallEntry {
  ms: number;
  result?: WireResult | null;
  error?: string;
}

/** runner -> host: a call finished; one entry per member asked (fewer when one decided). */
export interface ResultMsg {
  t: "result";
  id: number;
  entries: CallEntry[];
  bin?: number;
}

/** runner -> host: the call as a whole failed (the runner's own fault, not a hook's). */
export interface ErrorMsg {
  t: "error";
  id: number;
  error: string;
}

/** Host services reachable by message. */
export type SvcOp =
  | "kv.get"
  | "kv.getMany"
  | "kv.set"
  | "kv.incr"
  | "kv.incrMany"
  | "kv.delete"
  | "dns.resolve";

/** runner -> host: a service request of member `p` (ids are the runner's own). */
export interface SvcMsg {
  t: "svc";
  id: number;
  p: number;
  op: SvcOp;
  args: unknown[];
}

export type RunnerToHost = ReadyMsg | FatalMsg | ResultMsg | ErrorMsg | SvcMsg;

/**
 * A HookResult as it crosses the wire: `body` and `message` travel in the frame payload
 * (their lengths here); the reader puts the bytes back as `body` / `message`.
 */
export type WireResult = Omit<HookResult, "body" | "message"> & {
  bodyLen?: number;
  messageLen?: number;
  body?: Uint8Array;
  message?: Uint8Array;
};

const SVC_OPS = new Set<string>([
  "kv.get",
  "kv.getMany",
  "kv.set",
  "kv.incr",
  "kv.incrMany",
  "kv.delete",
  "dns.resolve",
]);

/** A ready message's `reads`: absent, or known message hooks with known values. */
const readsMap = (v: unknown) =>
  v === undefined ||
  (typeof v === "object" && v !== null && !Array.isArray(v) &&
    Object.entries(v).every(([h, r]) =>
      (MESSAGE_HOOKS as readonly string[]).includes(h) && READS.includes(r)
    ));

const hookList = (v: unknown) => Array.isArray(v) && v.every((h) => typeof h === "string");

/**
 * Checks one result entry whose payload starts at `off` of `bin`; puts its bytes back as
 * `result.body` / `result.message`. Returns the payload bytes it used, or -1 when it is
 * malformed.
 */
function readEntry(e: unknown, bin: Uint8Array | null, off: number): number {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return -1;
  const entry = e as Record<string, unknown>;
  if (typeof entry.ms !== "number") return -1;
  if (entry.error !== undefined) return typeof entry.error === "string" ? 0 : -1;
  const r = entry.result;
  if (r === null || r === undefined) return 0;
  if (typeof r !== "object" || Array.isArray(r)) return -1;
  const res = r as Record<string, unknown>;
  const len = (x: unknown) => x === undefined ? 0 : Number.isSafeInteger(x) ? x as number : -1;
  const bodyLen = len(res.bodyLen);
  const messageLen = len(res.messageLen);
  const have = (bin?.length ?? 0) - off;
  if (bodyLen < 0 || messageLen < 0 || bodyLen + messageLen > have) return -1;
  delete res.body;
  delete res.message;
  if (res.bodyLen !== undefined) res.body = bin!.subarray(off, off + bodyLen);
  if (res.messageLen !== undefined) {
    res.message = bin!.subarray(off + bodyLen, off + bodyLen + messageLen);
  }
  return bodyLen + messageLen;
}

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
  return parseRunnerMessage(v, null);
}

/**
 * Checks one frame from a runner (its parsed JSON and its payload). Returns null for
 * anything that is not a well-formed protocol message. A result's payload is split back
 * into each entry's `body` and `message`; lengths that do not add up make the frame
 * malformed.
 */
export function parseRunnerMessage(v: unknown, bin: Uint8Array | null): RunnerToHost | null {
  if (typeof v !== "object" || v === null) return null;
  const m = v as Record<string, unknown>;
  switch (m.t) {
    case "ready":
      return Array.isArray(m.plugins) && m.plugins.length > 0 &&
          m.plugins.every((p) =>
            typeof p === "object" && p !== null && hookList(p.hooks) &&
            (p.prepares === undefined || hookList(p.prepares)) && readsMap(p.reads) &&
            (p.early === undefined || typeof p.early === "boolean")
          )
        ? m as unknown as ReadyMsg
        : null;
    case "fatal":
      return typeof m.error === "string" ? m as unknown as FatalMsg : null;
    case "result": {
      if (!Number.isSafeInteger(m.id) || !Array.isArray(m.entries)) return null;
      let off = 0;
      for (const e of m.entries as unknown[]) {
        const used = readEntry(e, bin, off);
        if (used < 0) return null;
        off += used;
      }
      return off === (bin?.length ?? 0) ? m as unknown as ResultMsg : null;
    }
    case "error":
      return Number.isSafeInteger(m.id) && typeof m.error === "string"
        ? m as unknown as ErrorMsg
        : null;
    case "svc":
      return Number.isSafeInteger(m.id) && Number.isSafeInteger(m.p) && typeof m.op === "string" &&
          SVC_OPS.has(m.op) &&
          Array.isArray(m.args)
        ? m as unknown as SvcMsg
        : null;
    default:
      return null;
  }
}

/** Encodes a message as one line (JSON never contains a raw newline). */
export function encodeLine(msg: HostToRunner | RunnerToHost): string {
  return JSON.stringify(msg) + "\n";
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Scratch space for `utf8`; grows to fit the longest line seen (within `MAX_SCRATCH`).
 * Module-level on purpose: a reused buffer, never holding data between calls.
 */
let scratch = new Uint8Array(16 * 1024);
const MAX_SCRATCH = 4 * 1024 * 1024;

/**
 * A frame line as UTF-8 bytes. `encodeInto` a reused buffer and one copy out costs a
 * fifth of `encode`, which allocates through the runtime (measured: 0.6 vs 2.7 µs for a
 * call's line; one of the larger costs of a hook call).
 */
function utf8(line: string): Uint8Array {
  const most = line.length * 3; // UTF-8 bytes per UTF-16 code unit, at most
  if (most > scratch.length) {
    if (most > MAX_SCRATCH) return enc.encode(line);
    scratch = new Uint8Array(most);
  }
  const { written } = enc.encodeInto(line, scratch);
  return scratch.slice(0, written);
}

/**
 * The JSON line of a frame with a `bin`-byte payload. `bin` is appended to the object's
 * JSON rather than set on the object: adding and deleting a property would copy the
 * message or turn it into a slow dictionary object (measured: 4x the cost of this).
 */
function frameLine(msg: HostToRunner | RunnerToHost, bin: number): string {
  const json = JSON.stringify(msg);
  return bin > 0 ? `${json.slice(0, -1)},"bin":${bin}}\n` : json + "\n";
}

/** Encodes one frame: the message's JSON line (with `bin` set), then the payload parts. */
export function encodeFrame(
  msg: HostToRunner | RunnerToHost,
  payload: Uint8Array[] = [],
): Uint8Array {
  let total = 0;
  for (const p of payload) total += p.length;
  const head = utf8(frameLine(msg, total));
  if (total === 0) return head;
  return concatBytes([head, ...payload], head.length + total);
}

/** One frame as read: the parsed JSON (null when the line is not JSON) and its payload. */
export interface Frame {
  value: unknown;
  /** The JSON line as text (for logging a line that is not protocol). */
  line: string;
  bin: Uint8Array | null;
}

function join(parts: Uint8Array[], size: number): Uint8Array {
  return parts.length === 1 ? parts[0] : concatBytes(parts, size);
}

/**
 * Frames and system calls of this process's wire so far, all channels together: how many
 * calls one write or one read carries (the batching that amortises a wake-up; `deno task
 * bench plugins` reports it from the host's log line at stop). Counters only.
 */
export const wireStats = { writes: 0, framesOut: 0, reads: 0, framesIn: 0 };

/**
 * Splits a byte stream into frames, looking at each byte once: a line (or payload) that
 * spans many chunks is kept as pieces and joined once complete, so a message of many MB
 * costs one copy, not one per chunk. A chunk the caller will overwrite (a reused read
 * buffer) is pushed with `reused = true`: whatever outlives the call is copied.
 */
export class FrameReader {
  #parts: Uint8Array[] = [];
  #held = 0;
  /** Payload bytes still to come for `#head`; -1 while reading a line. */
  #need = -1;
  #head: { value: unknown; line: string } | null = null;

  /** Bytes held for an unfinished frame plus the payload bytes it announced. */
  get pending(): number {
    return this.#held + Math.max(0, this.#need);
  }

  /**
   * Feeds one chunk; returns the frames it completed. From a reused chunk, the payloads
   * that lie whole in it are copied out together, in one slice (one ArrayBuffer per read,
   * not one per frame: a fresh ArrayBuffer per call costs more than the call's parsing,
   * most of it in the collector); each frame's `bin` is a view of that slice.
   */
  push(chunk: Uint8Array, reused = false): Frame[] {
    const out: Frame[] = [];
    const keep = (a: number, b: number) => reused ? chunk.slice(a, b) : chunk.subarray(a, b);
    // Payloads whole in this chunk, when it is reused: [frame, start, end] to copy later.
    let whole: Array<[Frame, number, number]> | null = null;
    let off = 0;
    while (off < chunk.length) {
      if (this.#need >= 0) {
        const take = Math.min(this.#need, chunk.length - off);
        if (reused && this.#held === 0 && take === this.#need) {
          const f: Frame = { ...this.#head!, bin: null };
          (whole ??= []).push([f, off, off + take]);
          out.push(f);
          off += take;
          this.reset();
          continue;
        }
        this.#parts.push(keep(off, off + take));
        this.#held += take;
        this.#need -= take;
        off += take;
        if (this.#need === 0) {
          out.push({ ...this.#head!, bin: join(this.#parts, this.#held) });
          this.reset();
        }
        continue;
      }
      const nl = chunk.indexOf(10, off);
      if (nl < 0) {
        this.#parts.push(keep(off, chunk.length));
        this.#held += chunk.length - off;
        break;
      }
      this.#parts.push(chunk.subarray(off, nl));
      const line = dec.decode(join(this.#parts, this.#held + nl - off));
      this.reset();
      off = nl + 1;
      let value: unknown = null;
      try {
        value = JSON.parse(line);
      } catch { /* not protocol: reported as such */ }
      const bin = (value as { bin?: unknown } | null)?.bin;
      if (typeof bin === "number" && Number.isSafeInteger(bin) && bin > 0) {
        this.#head = { value, line };
        this.#need = bin;
      } else out.push({ value, line, bin: null });
    }
    if (whole) {
      // One copy from the first such payload to the end of the last (the lines between
      // come along: less work than a copy per payload).
      const from = whole[0][1];
      const copy = chunk.slice(from, whole[whole.length - 1][2]);
      for (const [f, a, b] of whole) f.bin = copy.subarray(a - from, b - from);
    }
    // A frame announced with a zero-length remainder completes here.
    wireStats.reads++;
    wireStats.framesIn += out.length;
    return out;
  }

  /** Drops the unfinished frame. */
  reset(): void {
    this.#parts = [];
    this.#held = 0;
    this.#need = -1;
    this.#head = null;
  }
}

/** A queue's buffers start this size and go back to it after a write of more than MAX_KEEP. */
const QUEUE_START = 16 * 1024;
const MAX_KEEP = 1024 * 1024;

/**
 * Writes frames in order through `write`, coalescing those queued in the same tick, or
 * while a write is under way, into one write (fewer system calls and wake-ups for the
 * other side when many calls are in flight). A failed write drops the queue: the other
 * side is gone.
 *
 * Frames are encoded straight into one of two buffers that take turns (one filling while
 * the other is being written), not into a fresh ArrayBuffer per frame: a new ArrayBuffer
 * per call was the largest share of a no-op call's CPU, most of it in the collector
 * (measured: `deno task bench plugins`). So `write` may use its bytes only until the
 * promise it returns settles; it must not keep them.
 */
export class FrameQueue {
  #buf = new Uint8Array(QUEUE_START);
  #len = 0;
  #spare = new Uint8Array(QUEUE_START);
  #busy = false;
  #idle: Promise<void> = Promise.resolve();
  #write: (bytes: Uint8Array) => Promise<unknown>;

  constructor(write: (bytes: Uint8Array) => Promise<unknown>) {
    this.#write = write;
  }

  /** Room for `n` more bytes in the filling buffer. */
  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#len + n, this.#buf.length * 2));
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  /** Queues bytes already encoded (a frame, or its pieces in order); they are copied. */
  push(...frame: Uint8Array[]): void {
    wireStats.framesOut++;
    for (const b of frame) {
      this.#room(b.length);
      this.#buf.set(b, this.#len);
      this.#len += b.length;
    }
    this.#kick();
  }

  /** Encodes one frame (see `encodeFrame`) straight into the queue. */
  pushFrame(msg: HostToRunner | RunnerToHost, payload: readonly Uint8Array[] = []): void {
    let total = 0;
    for (const p of payload) total += p.length;
    const line = frameLine(msg, total);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.#room(line.length * 3 + total);
    this.#len += enc.encodeInto(line, this.#buf.subarray(this.#len)).written;
    wireStats.framesOut++;
    for (const p of payload) {
      this.#buf.set(p, this.#len);
      this.#len += p.length;
    }
    this.#kick();
  }

  #kick(): void {
    if (this.#busy) return;
    this.#busy = true;
    // Start at the end of this tick: frames pushed by the same task go out together.
    this.#idle = Promise.resolve().then(() => this.#drain());
  }

  /** Resolves when everything queued so far was written (or dropped). */
  flushed(): Promise<void> {
    return this.#idle;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#len > 0) {
        const full = this.#buf;
        const out = full.subarray(0, this.#len);
        // New frames fill the other buffer while this one is written.
        this.#buf = this.#spare.length > MAX_KEEP ? new Uint8Array(QUEUE_START) : this.#spare;
        this.#len = 0;
        this.#spare = full;
        wireStats.writes++;
        await this.#write(out);
      }
    } catch {
      this.#len = 0;
    } finally {
      if (this.#spare.length > MAX_KEEP) this.#spare = new Uint8Array(QUEUE_START);
      this.#busy = false;
    }
  }
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
