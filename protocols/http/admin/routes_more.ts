/**
 * The admin API routes of the console's later pages (sign-up links, activity, plugin
 * reload); each calls a shared operation of core/admin/ where the CLI has a twin.
 *
 * @module
 */
import { createSignup } from "../../../core/admin/signup.ts";
import { reloadServer } from "../../../core/admin/plugins.ts";
import { activityView } from "./activity.ts";
import { booleanField, stringField } from "./request.ts";
import { type AdminRoute, ok } from "./route_types.ts";

export const MORE_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "activity",
    cli: "(none: per node, in memory; the log has the same events)",
    handle: (c) => Promise.resolve(ok(activityView(c.deps, c.url))),
  },
  {
    method: "POST",
    path: "plugins/reload",
    cli: "plugin reload",
    handle: async (c) => {
      const r = await reloadServer(c.ctx, c.deps.reload);
      return ok(r, r.ok ? 200 : 422);
    },
  },
  {
    method: "POST",
    path: "invites",
    cli: "user invite EMAIL [--admin] [--create-domain]",
    handle: async (c) =>
      ok(
        await createSignup(c.ctx, stringField(c.body, "email"), {
          admin: booleanField(c.body, "admin"),
          createDomain: booleanField(c.body, "createDomain"),
        }),
        201,
      ),
  },
];
