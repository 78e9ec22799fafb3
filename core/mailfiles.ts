/**
 * Messages from files: a Maildir (`cur/` and `new/`), an mbox file, a single message file,
 * or a folder of message files (.eml, .txt, or files without an extension, as MH folders
 * have). For `denomail import`, `denomail spam train` and the benchmarks; never used by
 * plugins (which have no file access).
 *
 * mbox (RFC 4155): messages start at lines beginning "From "; ">From " quoting (mboxrd) is
 * undone. The file is read in chunks, so large mailboxes are not held in memory whole.
 *
 * @module
 */
import { join } from "node:path";

/** One message and where it came from. */
export interface CorpusMessage {
  /** File path, or "path#N" for the Nth message of an mbox. */
  name: string;
  bytes: Uint8Array;
}

/** The files a path holds and their total size (for a progress bar). */
export interface CorpusPlan {
  kind: "maildir" | "mbox" | "folder" | "file";
  files: string[];
  bytes: number;
}

const MESSAGE_FILE = /(\.(eml|txt|msg)|^[^.]+)$/i;

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function filesIn(dir: string, all: boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(".")) continue;
    if (
      !e.isFile && !(e.isSymlink && (await Deno.stat(join(dir, e.name)).catch(() => null))?.isFile)
    ) {
      continue;
    }
    if (all || MESSAGE_FILE.test(e.name)) out.push(join(dir, e.name));
  }
  return out.sort();
}

/** Looks at a path; throws Deno.errors.NotFound when it does not exist. */
export async function planCorpus(path: string): Promise<CorpusPlan> {
  const st = await Deno.stat(path);
  let kind: CorpusPlan["kind"];
  let files: string[];
  if (st.isDirectory) {
    if (await isDir(join(path, "cur")) || await isDir(join(path, "new"))) {
      kind = "maildir";
      files = [];
      for (const sub of ["new", "cur"]) {
        if (await isDir(join(path, sub))) files.push(...await filesIn(join(path, sub), true));
      }
    } else {
      kind = "folder";
      files = await filesIn(path, false);
    }
  } else {
    kind = await startsWithFrom(path) ? "mbox" : "file";
    files = [path];
  }
  let bytes = 0;
  for (const f of files) bytes += (await Deno.stat(f)).size;
  return { kind, files, bytes };
}

async function startsWithFrom(path: string): Promise<boolean> {
  const f = await Deno.open(path);
  try {
    const buf = new Uint8Array(5);
    const n = await f.read(buf);
    return n === 5 && new TextDecoder().decode(buf) === "From ";
  } finally {
    f.close();
  }
}

const FROM_ = new TextEncoder().encode("From ");

function startsAt(buf: Uint8Array, i: number, what: Uint8Array): boolean {
  if (i + what.length > buf.length) return false;
  for (let k = 0; k < what.length; k++) if (buf[i + k] !== what[k]) return false;
  return true;
}

/** Drops the "From " separator line and undoes mboxrd ">From " quoting, byte-wise. */
function mboxMessage(chunk: Uint8Array): Uint8Array {
  let start = chunk.indexOf(10) + 1;
  if (start === 0) start = chunk.length;
  const body = chunk.subarray(start);
  const out = new Uint8Array(body.length);
  let o = 0;
  let lineStart = true;
  for (let i = 0; i < body.length; i++) {
    if (lineStart && body[i] === 62 /* > */) {
      let j = i;
      while (j < body.length && body[j] === 62) j++;
      // ">From " -> "From ", ">>From " -> ">From ": one ">" less.
      if (startsAt(body, j, FROM_)) i++;
    }
    out[o++] = body[i];
    lineStart = body[i] === 10;
  }
  return out.subarray(0, o);
}

/** The messages of an mbox file, read in chunks. */
export async function* readMbox(path: string): AsyncGenerator<CorpusMessage> {
  const f = await Deno.open(path);
  let buf = new Uint8Array(0);
  let n = 0;
  try {
    const chunk = new Uint8Array(1 << 20);
    let eof = false;
    while (!eof) {
      const r = await f.read(chunk);
      if (r === null) eof = true;
      else {
        const next = new Uint8Array(buf.length + r);
        next.set(buf);
        next.set(chunk.subarray(0, r), buf.length);
        buf = next;
      }
      // Cut at each "\nFrom " (a separator line) except at the very start.
      let from = 0;
      for (let i = 1; i < buf.length; i++) {
        if (buf[i - 1] === 10 && startsAt(buf, i, FROM_)) {
          if (i > from) yield { name: `${path}#${++n}`, bytes: mboxMessage(buf.subarray(from, i)) };
          from = i;
        }
      }
      buf = buf.slice(from);
    }
    if (buf.length > 0 && startsAt(buf, 0, FROM_)) {
      yield { name: `${path}#${++n}`, bytes: mboxMessage(buf) };
    }
  } finally {
    f.close();
  }
}

/** Every message of a plan, in order. */
export async function* readCorpus(plan: CorpusPlan): AsyncGenerator<CorpusMessage> {
  if (plan.kind === "mbox") {
    yield* readMbox(plan.files[0]);
    return;
  }
  for (const f of plan.files) yield { name: f, bytes: await Deno.readFile(f) };
}
