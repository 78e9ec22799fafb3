/**
 * The runner's first `--preload` (process mode): connects to the host's loopback socket
 * before the plugin module is evaluated, presents the per-process token, then revokes the
 * net permission it was given for that socket alone, so the plugin never holds it.
 *
 * Args (after the runner's module URL): `<port> <token> <revoke|keep>`; `keep` when the
 * admin granted the plugin that address anyway. Without them, `conn` is null and the
 * runner uses stdin/stdout.
 *
 * Deno evaluates preloads one after another, each (with its top-level await) before the
 * next module graph is evaluated, so the plugin and its imports see the permission revoked
 * (checked in tests/plugins_sandbox_test.ts: a plugin cannot connect to the host port).
 *
 * @module
 */
const [, port, token, mode] = Deno.args;

async function connect(): Promise<Deno.TcpConn | null> {
  if (!port || !token) return null;
  const c = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  c.setNoDelay(true);
  const t = new TextEncoder().encode(token + "\n");
  let off = 0;
  while (off < t.length) off += await c.write(t.subarray(off));
  return c;
}

/** The channel to the host, or null (stdin/stdout). */
export const conn: Deno.TcpConn | null = await connect().finally(() => {
  if (port && mode !== "keep") {
    Deno.permissions.revokeSync({ name: "net", host: `127.0.0.1:${port}` });
  }
});
