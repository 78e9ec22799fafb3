/**
 * `import maildir|mbox PATH --user EMAIL [--mailbox NAME]`: moves mail from another server.
 *
 * - Maildir: `new/` and `cur/`; flags from the file name's ":2," suffix (D Draft, F Flagged,
 *   R Answered, S Seen, T Deleted); the internal date is the file's modification time.
 * - mbox (RFC 4155, mboxrd quoting undone): the internal date comes from the Date header.
 * Line endings become CRLF (RFC 5322 §2.1, as IMAP serves them). Writes go through the
 * group-committing writer, many at a time, so a large import costs few fsyncs. The
 * full-text index is built here, after each batch, not left to a server's background
 * indexer: imported mail is searchable at full speed as soon as the command returns.
 *
 * @module
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkAddress } from "../../core/admin/validate.ts";
import { Progress } from "../progress.ts";
import { requireArg } from "../../core/admin/validate.ts";
import { planCorpus, readCorpus } from "../../core/mailfiles.ts";
import { headerValue, parseMime } from "../../mime/mod.ts";

export const usage = "import maildir|mbox PATH --user EMAIL [--mailbox NAME]";

/** Appends in flight at once: enough to fill the writer's batches. */
const IN_FLIGHT = 32;
/** Messages appended between two full-text indexing passes. */
const INDEX_BATCH = 1000;

const MAILDIR_FLAGS: Record<string, string> = {
  D: "\\Draft",
  F: "\\Flagged",
  R: "\\Answered",
  S: "\\Seen",
  T: "\\Deleted",
};

/** Flags from a Maildir file name ("...:2,FS"). */
export function maildirFlags(name: string): string[] {
  const m = /:2,([A-Za-z]*)$/.exec(name);
  if (!m) return [];
  return [...new Set(m[1])].map((c) => MAILDIR_FLAGS[c]).filter((f): f is string => !!f);
}

/** LF or CRLF line endings -> CRLF. */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  let lone = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && bytes[i - 1] !== 13) lone++;
  if (lone === 0) return bytes;
  const out = new Uint8Array(bytes.length + lone);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] !== 13) out[o++] = 13;
    out[o++] = bytes[i];
  }
  return out;
}

/** RFC 4155: the empty line before the next "From " line separates; it is not message text. */
export function dropSeparatorBlank(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n >= 4 && bytes[n - 4] === 13 && bytes[n - 3] === 10 && bytes[n - 2] === 13) {
    return bytes.subarray(0, n - 2);
  }
  if (n >= 2 && bytes[n - 2] === 10 && bytes[n - 1] === 10) return bytes.subarray(0, n - 1);
  return bytes;
}

function dateHeader(bytes: Uint8Array): number | undefined {
  const v = headerValue(parseMime(bytes), "date");
  const t = v ? Date.parse(v.replace(/\([^)]*\)/g, "").trim()) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

export async function run(ctx: CliContext): Promise<void> {
  const [kind, path, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (kind !== "maildir" && kind !== "mbox") {
    throw new UsageError(`import: the format must be maildir or mbox (got ${kind ?? "nothing"})`);
  }
  const source = requireArg(path, "PATH");
  const email = checkAddress(requireArg(ctx.args.values.get("--user"), "--user"), "--user");
  const mailboxName = ctx.args.values.get("--mailbox") ?? "INBOX";
  let plan;
  try {
    plan = await planCorpus(source);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`PATH: no such file ${source}`);
    throw e;
  }
  if (plan.kind !== kind) {
    throw new UsageError(`PATH: ${source} is not a${kind === "mbox" ? "n mbox file" : " Maildir"}`);
  }
  const store = await ctx.store({ groupCommit: true });
  const account = await store.getAccount(email);
  if (!account) throw new UsageError(`--user: no such user ${email}`);
  const mailbox = await store.getMailbox(account.id, mailboxName) ??
    await store.createMailbox(account.id, mailboxName);

  const progress = new Progress(`importing into ${mailbox.name}`, plan.bytes);
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  let bytesDone = 0;
  let sent = 0;
  for await (const msg of readCorpus(plan)) {
    const bytes = toCrlf(kind === "mbox" ? dropSeparatorBlank(msg.bytes) : msg.bytes);
    const flags = kind === "maildir" ? maildirFlags(msg.name) : [];
    const internalDate = kind === "maildir"
      ? (await Deno.stat(msg.name)).mtime?.getTime()
      : dateHeader(bytes);
    const p = store.append(mailbox.id, bytes, { flags, internalDate }).then(() => {
      done++;
      bytesDone += msg.bytes.length;
      progress.update(bytesDone, done);
    });
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    // The writer runs requests in order: this pass comes after the appends sent before it.
    if (++sent % INDEX_BATCH === 0) await store.flushTextIndex?.();
  }
  await Promise.all(inFlight);
  await store.flushTextIndex?.();
  progress.end();
  ctx.print(`imported ${done} messages into ${email} ${mailbox.name}`);
}
