/**
 * Plugin reload (CLI `plugin reload`, which signals the running serve; API
 * `POST /api/admin/plugins/reload`, which asks it directly): the config is read again, the
 * certificate and the plugins reloaded; a plugin that does not load leaves the old ones.
 *
 * @module
 */
import { type AdminContext, audit } from "./context.ts";
import { UsageError } from "./errors.ts";

export async function reloadServer(
  ctx: AdminContext,
  reload: (() => Promise<{ ok: boolean; error?: string }>) | undefined,
): Promise<{ ok: boolean; error?: string }> {
  if (!reload) {
    throw new UsageError(
      "this server was not started by serve with a config file; nothing to reload",
      "exists",
    );
  }
  const r = await reload();
  await audit(ctx, "plugin.reload", "", r.ok ? {} : { error: r.error });
  return r;
}
