/** `queue list | retry ID | drop ID | flush`: the outbound queue. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { requireArg } from "./domain.ts";
import { StoreError } from "../../storage/mod.ts";

export const usage = "queue list | queue retry ID | queue drop ID | queue flush";

function parseId(raw: string | undefined): number {
  const v = requireArg(raw, "ID");
  if (!/^\d{1,15}$/.test(v)) throw new UsageError(`ID must be a number (got "${v}")`);
  return Number(v);
}

export async function run(ctx: CliContext): Promise<void> {
  const [sub, arg, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const store = await ctx.store();
  const now = Date.now();
  switch (sub) {
    case "list": {
      if (arg !== undefined) throw new UsageError(`unexpected argument ${arg}`);
      const entries = await store.listQueue();
      for (const e of entries) {
        ctx.print(
          [
            e.id,
            new Date(e.createdAt).toISOString(),
            `next=${new Date(e.nextAttemptAt).toISOString()}`,
            `attempts=${e.attempts}`,
            `from=<${e.sender}>`,
            e.recipients.map((r) => `${r.address}(${r.status})`).join(","),
            e.lastError ? `last="${e.lastError}"` : "",
          ].filter((x) => x !== "").join("\t"),
        );
      }
      if (entries.length === 0) ctx.print("queue is empty");
      return;
    }
    case "retry": {
      const id = parseId(arg);
      // The running server picks it up at its next poll.
      await store.updateQueueEntry(id, { nextAttemptAt: now });
      ctx.print(`queue entry ${id} will be retried now`);
      return;
    }
    case "drop": {
      const id = parseId(arg);
      await store.removeQueueEntry(id);
      ctx.print(`dropped queue entry ${id}`);
      return;
    }
    case "flush": {
      if (arg !== undefined) throw new UsageError(`unexpected argument ${arg}`);
      let n = 0;
      for (const e of await store.listQueue()) {
        try {
          await store.updateQueueEntry(e.id, { nextAttemptAt: now });
          n++;
        } catch (err) {
          if (!(err instanceof StoreError && err.code === "not_found")) throw err;
        }
      }
      ctx.print(`${n} queue entr${n === 1 ? "y" : "ies"} will be retried now`);
      return;
    }
    default:
      throw new UsageError(`queue: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
