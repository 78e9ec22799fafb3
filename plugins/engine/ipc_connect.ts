/**
 * The runner's first `--preload` (process mode): connects to the host's Unix socket
 * before the plugin module is evaluated, presents the per-process token, then revokes the
 * permissions it was given for that socket alone (net `unix:<path>`, read and write of the
 * path: Deno checks all three for a Unix connect), so the plugin never holds them.
 *
 * Args (after the runner's module URL): `<socket path> <token> <kinds|keep>`: the kinds
 * to revoke, comma-separated, or `keep` when the admin's grant covers the socket anyway
 * (spawn.ts; revoking a path would revoke the admin's folder above it too). Without
 * them, `conn` is null and the runner uses stdin/stdout.
 *
 * Deno evaluates preloads one after another, each (with its top-level await) before the
 * next module graph is evaluated, so the plugin and its imports see the permissions revoked
 * (checked in tests/plugins_ipc_test.ts: a plugin cannot connect to the host's socket).
 *
 * @module
 */
const [, path, token, revoke] = Deno.args;

async function connect(): Promise<Deno.UnixConn | null> {
  if (!path || !token) return null;
  const c = await Deno.connect({ transport: "unix", path });
  const t = new TextEncoder().encode(token + "\n");
  let off = 0;
  while (off < t.length) off += await c.write(t.subarray(off));
  return c;
}

/** The channel to the host, or null (stdin/stdout). */
export const conn: Deno.UnixConn | null = await connect().finally(() => {
  if (!path || !revoke || revoke === "keep") return;
  for (const kind of revoke.split(",")) {
    if (kind === "net") Deno.permissions.revokeSync({ name: "net", host: `unix:${path}` });
    else if (kind === "read" || kind === "write") Deno.permissions.revokeSync({ name: kind, path });
  }
});
