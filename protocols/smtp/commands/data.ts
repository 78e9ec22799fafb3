/**
 * The message body: DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030), and what both do at the
 * end of a message: store durably, then reply 250 (or 451 when storage failed).
 *
 * @module
 */
import { checkAuthors } from "../../../core/submission.ts";
import { clientText, log } from "../../../lib/log.ts";
import type { CommandHandler, Envelope, SmtpSession } from "../context.ts";
import { deliverMessage, newMessageId } from "../delivery.ts";
import { parseBdatArg } from "../parser.ts";
import { smtpDataHook, smtpEarlyData } from "../hooks.ts";
import { type EarlyCalls, formatResults } from "../../../plugins/engine/host.ts";
import {
  AUTHOR_NOT_OWNED,
  MESSAGE_TOO_BIG,
  reply,
  SmtpError,
  START_DATA,
  STORAGE_FAILED,
  SYNTAX,
  withText,
} from "../replies.ts";
import { concatBytes } from "../../../lib/bytes.ts";

/** Names the transaction in the log line of a refusal at DATA/BDAT. */
function aboutMessage(s: SmtpSession, env: Envelope, id?: string): void {
  s.about({
    ...(id ? { id } : {}),
    from: env.sender?.address ?? "<>",
    to: env.recipients.map((r) => r.address).join(","),
  });
}

/**
 * RFC 6409 §6.1: the authors must be the user's (core/submission.ts checkAuthors, the same
 * check JMAP EmailSubmission makes), else 550 5.7.1 — impersonation is refused, not
 * delivered and queued out.
 */
async function checkAuthorsOf(s: SmtpSession, data: Uint8Array): Promise<void> {
  const r = await checkAuthors(s.deps, s.account!, data);
  if (!r) return;
  if (r.reason === "too_many") {
    throw new SmtpError(withText(AUTHOR_NOT_OWNED, "Too many From:/Sender: addresses"));
  }
  if (r.reason === "unusable") {
    s.about({ header: r.field });
    throw new SmtpError(withText(AUTHOR_NOT_OWNED, `${r.field}: header has no usable address`));
  }
  s.about({ header: r.field, address: clientText(r.address) });
  throw new SmtpError(
    withText(
      AUTHOR_NOT_OWNED,
      `${r.field}: address not owned by user: ${clientText(r.address, 100)}`,
    ),
  );
}

/** Stores the finished message and replies; the transaction ends either way. */
async function finishMessage(
  s: SmtpSession,
  data: Uint8Array,
  early: EarlyCalls | null = null,
): Promise<void> {
  const env = s.envelope!;
  const id = newMessageId(s.deps.now());
  aboutMessage(s, env, id);
  s.resetTransaction();
  if (s.account) await checkAuthorsOf(s, data);
  // Plugins (data hook): may refuse (SmtpError), discard, pick the mailbox, change the message.
  const plugged = await smtpDataHook(s, env, data, early);
  let pluginLog = plugged.log;
  let queueId: number | null = null;
  try {
    if (!plugged.discard) {
      const res = await deliverMessage(s.deps, {
        id,
        role: s.role,
        envelope: env,
        data: plugged.data,
        mailbox: plugged.mailbox,
        helo: s.helo ?? "unknown",
        esmtp: s.esmtp,
        clientIp: s.conn.remoteAddress,
        tls: s.conn.tlsInfo(),
        account: s.account,
        plugins: { sessionId: s.id, score: plugged.score, results: plugged.results },
      });
      pluginLog = [pluginLog, formatResults(res.pluginResults)].filter((x) => x).join(" ");
      queueId = res.queueId;
    }
  } catch (e) {
    if (e instanceof SmtpError) throw e; // a deliver-hook plugin refused the message
    // RFC 5321 §4.2.5: nothing was committed, so the client must keep the message: 451.
    log.error("smtp", "storing a message failed", {
      id,
      session: s.id,
      error: (e as Error).message,
    });
    throw new SmtpError(STORAGE_FAILED);
  }
  log.info("smtp", "accepted", {
    id,
    session: s.id,
    ip: s.conn.remoteAddress,
    ...(s.account ? { user: s.account.email } : {}),
    ...(queueId !== null ? { queue: queueId } : {}),
    from: env.sender?.address ?? "",
    to: env.recipients.map((r) => r.address).join(","),
    size: data.length,
    ...(pluginLog ? { plugins: pluginLog } : {}),
    ...(plugged.discard ? { discarded: true } : {}),
    ...(plugged.mailbox ? { mailbox: plugged.mailbox } : {}),
  });
  // RFC 5321 §4.2.5 / DESIGN step 6: 250 only after the durable commit.
  s.reply(reply(250, "2.0.0", `Message accepted as ${id}`));
}

/** RFC 5321 §4.1.1.4 DATA: 354, the dot-stuffed body, then one reply for the message. */
export const data: CommandHandler = async (s, arg) => {
  if (arg !== "") throw new SmtpError(SYNTAX);
  const limits = s.deps.config.limits;
  s.reply(START_DATA);
  // Early plugins (plugins/sdk.ts `Early`) are asked while the message arrives; an aborted
  // DATA just drops their answers (nothing else holds them).
  const early = smtpEarlyData(s);
  await s.flush();
  const body = await s.conn.readDotData(limits.maxMessageBytes, limits.smtpDataTimeoutMs);
  if (body.data === null) {
    aboutMessage(s, s.envelope!);
    // RFC 1870 §6.1 / RFC 5321 §4.5.3.1.10: over the limit -> 552 5.3.4, transaction ends.
    s.resetTransaction();
    throw new SmtpError(MESSAGE_TOO_BIG);
  }
  await finishMessage(s, body.data, early);
};

/**
 * RFC 3030 §2: the chunk of a BDAT that is refused (bad sequence, no auth) must still be
 * read, or its bytes would be taken for commands.
 */
export const drainBdat: CommandHandler = async (s, arg) => {
  let size: number;
  try {
    size = parseBdatArg(arg).size;
  } catch {
    return; // no size: nothing we can skip
  }
  await s.conn.skipBytes(size, s.deps.config.limits.smtpDataTimeoutMs);
};

/** BDAT chunks folded into one array at a time (see bdat). */
const FOLD_CHUNKS = 256;

/** RFC 3030 §2 BDAT <size> [LAST]: exact-size chunks; the LAST one ends the message. */
export const bdat: CommandHandler = async (s, arg) => {
  const { size, last } = parseBdatArg(arg);
  const env = s.envelope!;
  const limits = s.deps.config.limits;
  if (env.chunkBytes + size > limits.maxMessageBytes) {
    // RFC 3030 §4: the chunk is consumed, then 552; the transaction is over.
    await s.conn.skipBytes(size, limits.smtpDataTimeoutMs);
    aboutMessage(s, env);
    s.resetTransaction();
    throw new SmtpError(MESSAGE_TOO_BIG);
  }
  const chunk = size > 0 ? await s.conn.readBytes(size, limits.smtpDataTimeoutMs) : null;
  if (chunk) {
    env.chunks.push(chunk);
    env.chunkBytes += size;
    // RFC 3030 sets no minimum chunk size, and each chunk's array costs some 500 bytes of its
    // own: "BDAT 1" 20,000 times took 10 MB of heap, so a 25 MB message of 1-byte chunks
    // would take gigabytes. Every FOLD_CHUNKS new chunks become one array (each byte is
    // copied once more at most).
    env.looseChunks = (env.looseChunks ?? 0) + 1;
    if (env.looseChunks >= FOLD_CHUNKS) {
      env.chunks.push(concatBytes(env.chunks.splice(-env.looseChunks)));
      env.looseChunks = 0;
    }
  }
  if (!last) {
    s.phase = "bdat";
    s.reply(reply(250, "2.0.0", `${size} octets received`));
    return;
  }
  const message = concatBytes(env.chunks, env.chunkBytes);
  env.chunks = [];
  env.looseChunks = 0;
  await finishMessage(s, message);
};
