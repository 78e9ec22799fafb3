/** `queue list | retry ID | drop ID | flush`: the outbound queue (core/admin/queue.ts). */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { dropEntry, flushQueue, listQueue, retryEntry } from "../../core/admin/queue.ts";

export const usage = "queue list | queue retry ID | queue drop ID | queue flush";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, arg, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const admin = await ctx.admin();
  switch (sub) {
    case "list": {
      if (arg !== undefined) throw new UsageError(`unexpected argument ${arg}`);
      const entries = await listQueue(admin);
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
    case "retry":
      ctx.print(`queue entry ${await retryEntry(admin, arg)} will be retried now`);
      return;
    case "drop":
      ctx.print(`dropped queue entry ${await dropEntry(admin, arg)}`);
      return;
    case "flush": {
      if (arg !== undefined) throw new UsageError(`unexpected argument ${arg}`);
      const n = await flushQueue(admin);
      ctx.print(`${n} queue entr${n === 1 ? "y" : "ies"} will be retried now`);
      return;
    }
    default:
      throw new UsageError(`queue: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
