/**
 * `export mbox --user EMAIL --mailbox NAME --out FILE`: one mailbox as an mboxrd file
 * (RFC 4155: "From " separator lines, ">From " quoting, LF line endings).
 *
 * @module
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkAddress } from "../../core/admin/validate.ts";
import { requireArg } from "../../core/admin/validate.ts";

export const usage = "export mbox --user EMAIL --mailbox NAME --out FILE";

const dec = new TextDecoder("latin1"); // byte-preserving: 8-bit mail must survive as it is

/** asctime() form used by mbox separator lines: "Sat Nov 28 11:42:39 2026". */
function asctime(ms: number): string {
  const d = new Date(ms);
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()];
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][
    d.getUTCMonth()
  ];
  const t = d.toISOString().slice(11, 19);
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, " ")} ${t} ${d.getUTCFullYear()}`;
}

/** One message in mboxrd form, from its stored CRLF bytes. */
export function mboxEntry(bytes: Uint8Array, internalDate: number): Uint8Array {
  const text = dec.decode(bytes).replace(/\r\n/g, "\n");
  const sender = /^Return-Path:\s*<([^>\s]*)>/im.exec(text)?.[1] || "MAILER-DAEMON";
  const quoted = text.replace(/^(>*From )/gm, ">$1");
  const body = quoted.endsWith("\n") ? quoted : quoted + "\n";
  const out = `From ${sender} ${asctime(internalDate)}\n${body}\n`;
  return Uint8Array.from(out, (c) => c.charCodeAt(0));
}

export async function run(ctx: CliContext): Promise<void> {
  const [kind, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (kind !== "mbox") {
    throw new UsageError(`export: the format must be mbox (got ${kind ?? "nothing"})`);
  }
  const email = checkAddress(requireArg(ctx.args.values.get("--user"), "--user"), "--user");
  const mailboxName = requireArg(ctx.args.values.get("--mailbox"), "--mailbox");
  const out = requireArg(ctx.args.values.get("--out"), "--out");
  const store = await ctx.store();
  const account = await store.getAccount(email);
  if (!account) throw new UsageError(`--user: no such user ${email}`);
  const mailbox = await store.getMailbox(account.id, mailboxName);
  if (!mailbox) throw new UsageError(`--mailbox: ${email} has no mailbox ${mailboxName}`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(out, { write: true, createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`--out: ${out} already exists; not overwriting it`);
    }
    throw e;
  }
  let n = 0;
  try {
    for (const m of await store.listMessages(mailbox.id)) {
      const entry = mboxEntry(await store.readBlob(m.blobId), m.internalDate);
      let off = 0;
      while (off < entry.length) off += await file.write(entry.subarray(off));
      n++;
    }
    await file.sync();
  } finally {
    file.close();
  }
  ctx.print(`exported ${n} messages from ${email} ${mailbox.name} to ${out}`);
}
