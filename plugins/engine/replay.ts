/**
 * `denomail plugin test`: replays one message through a plugin host, hook by hook, in the
 * order a real message meets them, and reports every hook's outcome. Only the hooks the
 * plugin declares are asked. Every hook is asked even after a refusing verdict (the
 * report says which one the server would have stopped at), so one run shows them all.
 *
 * The kv service is an in-memory map (`MemoryKv`): replaying never touches the server's
 * store (a rate counter is not bumped by a test).
 *
 * @module
 */
import type { HookOutcome, PluginHost } from "./host.ts";
import type { HookName, PluginResultSummary, SessionInfo } from "../sdk.ts";
import type { KvStore } from "./services.ts";
import { addressOf } from "./address.ts";

/** What to replay. */
export interface ReplayInput {
  message: Uint8Array;
  from: string;
  to: string[];
  /** Client IP (default 127.0.0.1), EHLO name, authenticated user. */
  ip?: string;
  helo?: string;
  user?: string;
}

/** One asked hook. */
export interface ReplayStep {
  hook: HookName;
  /** The recipient, for per-recipient hooks. */
  recipient?: string;
  outcome: HookOutcome;
  /** Notifications (delivered, bounced, mailbox_move): their verdict is ignored. */
  notification: boolean;
}

/** An in-memory kv area (TTL honoured) for replays. */
export class MemoryKv implements KvStore {
  #map = new Map<string, { value: string; until: number | null }>();

  #live(ns: string, key: string) {
    const k = `${ns}\0${key}`;
    const v = this.#map.get(k);
    if (v && v.until !== null && v.until <= Date.now()) this.#map.delete(k);
    return this.#map.get(k) ?? null;
  }

  kvGet(ns: string, key: string): Promise<string | null> {
    return Promise.resolve(this.#live(ns, key)?.value ?? null);
  }

  kvSet(ns: string, key: string, value: string, ttlMs?: number): Promise<void> {
    this.#map.set(`${ns}\0${key}`, { value, until: ttlMs ? Date.now() + ttlMs : null });
    return Promise.resolve();
  }

  kvDelete(ns: string, key: string): Promise<void> {
    this.#map.delete(`${ns}\0${key}`);
    return Promise.resolve();
  }

  kvIncr(ns: string, key: string, by: number, ttlMs?: number): Promise<number> {
    const cur = this.#live(ns, key);
    const n = (cur ? Number(cur.value) || 0 : 0) + by;
    const until = cur ? cur.until : ttlMs ? Date.now() + ttlMs : null;
    this.#map.set(`${ns}\0${key}`, { value: String(n), until });
    return Promise.resolve(n);
  }

  kvIncrMany(ns: string, entries: Array<[string, number]>, ttlMs?: number) {
    return Promise.all(entries.map(([key, by]) => this.kvIncr(ns, key, by, ttlMs)));
  }
}

/** Runs every declared hook for the message; see the module doc. */
export async function replay(host: PluginHost, input: ReplayInput): Promise<ReplayStep[]> {
  const steps: ReplayStep[] = [];
  const results: PluginResultSummary[] = [];
  const session: SessionInfo = {
    id: "plugin-test",
    remoteIp: input.ip ?? "127.0.0.1",
    role: input.user ? "submission" : "mx",
    tls: false,
    helo: input.helo ?? "client.example",
    ...(input.user ? { user: input.user } : {}),
  };
  const sender = addressOf(input.from);
  const ask = async (
    hook: HookName,
    fields: Record<string, unknown>,
    recipient?: string,
    notification = false,
  ) => {
    if (!host.wants(hook)) return null;
    const outcome = await host.run(hook, { session, results: [...results], ...fields });
    results.push(...outcome.results);
    steps.push({ hook, recipient, outcome, notification });
    return outcome;
  };

  await ask("connect", {});
  await ask("ehlo", { helo: session.helo });
  if (input.user) await ask("auth", { user: input.user, mechanism: "PLAIN" });
  await ask("mail", { sender, params: {}, recipients: [] });
  const accepted = [];
  for (const to of input.to) {
    await ask("rcpt", { sender, rcpt: addressOf(to), recipients: [...accepted] }, to);
    accepted.push(addressOf(to));
  }
  let message = input.message;
  let score = 0;
  let mailbox = "INBOX";
  const data = await ask("data", { sender, recipients: accepted, message, score: 0 });
  if (data) {
    message = data.message ?? message;
    score = data.score;
    mailbox = data.mailbox ?? mailbox;
  }
  for (const to of input.to) {
    await ask("deliver", {
      source: "smtp",
      sender,
      recipient: addressOf(to),
      account: to.toLowerCase(),
      mailbox,
      score,
      message,
    }, to);
  }
  for (const [i, to] of input.to.entries()) {
    await ask("queue", {
      sender,
      recipient: addressOf(to),
      queueId: 0,
      attempt: 1,
      requireTls: false,
      message,
    }, to);
    const base = { sender, recipient: addressOf(to), queueId: 0 };
    await ask("delivered", { ...base, remoteMta: "mx.example" }, to, true);
    await ask(
      "bounced",
      {
        ...base,
        status: "5.1.1",
        error: "550 5.1.1 No such user (replayed)",
      },
      to,
      true,
    );
    if (i === 0) {
      await ask(
        "mailbox_move",
        {
          user: to.toLowerCase(),
          from: "INBOX",
          to: "Junk",
          kind: "junk",
          command: "move",
          uid: 1,
          message,
        },
        to,
        true,
      );
    }
  }
  return steps;
}

/** One report line for a step: `hook [<rcpt>]: action [code enhanced text] [details]`. */
export function formatStep(step: ReplayStep): string {
  const o = step.outcome;
  const head = `${step.hook}${step.recipient ? ` <${step.recipient}>` : ""}:`;
  const parts: string[] = [step.notification ? `notified (${o.action})` : o.action];
  if (o.code) parts.push(`${o.code} ${o.enhanced} ${o.text}`);
  if (o.decidedBy) parts.push(`by ${o.decidedBy}`);
  if (o.score) parts.push(`score=${o.score}`);
  if (o.mailbox) parts.push(`mailbox=${o.mailbox}`);
  for (const c of o.copies ?? []) {
    parts.push(`copy=${c.mailbox}${c.flags?.length ? `(${c.flags.join(" ")})` : ""}`);
  }
  if (o.relay) parts.push(`relay=${o.relay}`);
  if (o.tls) parts.push(`tls=${o.tls}`);
  for (const [n, v] of o.addHeaders) parts.push(`+header ${n}: ${v}`);
  if (o.message) parts.push(`message changed (${o.message.length} bytes)`);
  for (const r of o.results) {
    if (r.note) parts.push(`note(${r.plugin})=${r.note}`);
    if (r.error) parts.push(`ERROR(${r.plugin}) ${r.error}`);
  }
  return `${head} ${parts.join("  ")}`;
}
