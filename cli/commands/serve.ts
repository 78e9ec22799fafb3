/** `serve`: run every configured listener until SIGINT/SIGTERM; SIGHUP reloads TLS. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { startServer } from "../../core/server.ts";
import { log } from "../../core/log.ts";

export const usage = "serve [--config FILE]";

export async function run(ctx: CliContext): Promise<void> {
  if (ctx.args.positional.length) {
    throw new UsageError(`serve: unexpected argument ${ctx.args.positional[0]}`);
  }
  const config = await ctx.config();
  const server = await startServer(config);
  const done = Promise.withResolvers<void>();
  const stop = () => done.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const hup = () => {
    log.info("server", "SIGHUP: reloading TLS certificate");
    server.deps.tls.reload();
  };
  Deno.addSignalListener("SIGHUP", hup);
  await done.promise;
  log.info("server", "stopping");
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  Deno.removeSignalListener("SIGHUP", hup);
  await server.stop();
}
