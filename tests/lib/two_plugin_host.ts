/**
 * A plugin host with two plugins written from source (first, second), optionally in one
 * `group`, and a `data` run of a small message per Subject: what the host-level chain
 * tests (prepare, early) share.
 */
import { join } from "node:path";
import { configFromObject } from "../../core/config.ts";
import { PluginHost } from "../../plugins/engine/host.ts";

/** The message of a run: the Subject picks what the first plugin does. */
export const MESSAGE = (subject: string) =>
  new TextEncoder().encode(`Subject: ${subject}\r\nFrom: a@b.test\r\n\r\nhello\r\n`);

export async function twoPluginHost(
  prefix: string,
  first: string,
  second: string,
  group?: string,
) {
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.writeTextFile(join(dir, "first.ts"), first);
  await Deno.writeTextFile(join(dir, "second.ts"), second);
  const config = configFromObject({
    data_dir: join(dir, "data"),
    plugins: [
      { name: "first", module: join(dir, "first.ts"), group },
      { name: "second", module: join(dir, "second.ts"), group },
    ],
  }, dir);
  const host = await PluginHost.start(config, { strict: true });
  const run = (subject: string) =>
    host.run("data", {
      session: { id: "t", remoteIp: "192.0.2.1", tls: false },
      sender: { address: "a@b.test", local: "a", domain: "b.test" },
      recipients: [{ address: "u@example.test", local: "u", domain: "example.test" }],
      message: MESSAGE(subject),
    });
  const stop = async () => {
    await host.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return { run, stop };
}
