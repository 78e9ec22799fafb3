/**
 * The admin API's route table: each route names its CLI twin and calls the same
 * operation in core/admin/ (same validation, same messages). Paths are relative to
 * `/api/admin/`; a segment ":name" matches one decoded path segment (never a pattern made
 * from client input).
 *
 * @module
 */
import {
  addDomain,
  checkDomainDns,
  domainRecords,
  listDomains,
  removeDomain,
} from "../../../core/admin/domains.ts";
import { generateDkim } from "../../../core/admin/dkim.ts";
import {
  addUser,
  listUsers,
  removeUser,
  setPassword,
  setQuota,
  setRole,
} from "../../../core/admin/users.ts";
import { listAliases, removeAlias, setAlias } from "../../../core/admin/aliases.ts";
import { dropEntry, flushQueue, listQueue, retryEntry } from "../../../core/admin/queue.ts";
import { type AdminRoute, ok, passwordOf } from "./route_types.ts";
import { MORE_ROUTES } from "./routes_more.ts";
import { auditExport, auditPage } from "./audit.ts";
import { dmarcSummary } from "../../../core/reports/dmarc_ingest.ts";
import { pluginsView, serverView } from "./info.ts";
import { booleanField, listField, stringField } from "./request.ts";

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "domains",
    cli: "domain list",
    handle: async (c) => ok({ domains: await listDomains(c.ctx) }),
  },
  {
    method: "POST",
    path: "domains",
    cli: "domain add DOMAIN",
    handle: async (c) => ok({ name: await addDomain(c.ctx, stringField(c.body, "name")) }, 201),
  },
  {
    method: "DELETE",
    path: "domains/:domain",
    cli: "domain remove DOMAIN",
    handle: async (c) => ok({ name: await removeDomain(c.ctx, c.params.domain) }),
  },
  {
    method: "GET",
    path: "domains/:domain/dns",
    cli: "dns DOMAIN",
    handle: async (c) => ok(await domainRecords(c.ctx, c.params.domain)),
  },
  {
    method: "GET",
    path: "domains/:domain/dns/check",
    cli: "dns check DOMAIN",
    handle: async (c) => ok(await checkDomainDns(c.ctx, c.params.domain)),
  },
  {
    method: "POST",
    path: "domains/:domain/dkim",
    cli: "dkim generate DOMAIN [--selector S] [--force]",
    handle: async (c) => {
      const key = await generateDkim(c.ctx, c.params.domain, {
        selector: stringField(c.body, "selector"),
        force: booleanField(c.body, "force"),
      });
      return ok({ domain: key.domain, selector: key.selector, record: key.record }, 201);
    },
  },
  {
    method: "GET",
    path: "users",
    cli: "user list",
    handle: async (c) => ok({ users: await listUsers(c.ctx) }),
  },
  {
    method: "POST",
    path: "users",
    cli: "user add EMAIL [--admin] [--create-domain]",
    handle: async (c) =>
      ok(
        await addUser(c.ctx, stringField(c.body, "email"), {
          password: passwordOf(c.body),
          createDomain: booleanField(c.body, "createDomain"),
          admin: booleanField(c.body, "admin"),
        }),
        201,
      ),
  },
  {
    method: "DELETE",
    path: "users/:email",
    cli: "user remove EMAIL",
    handle: async (c) => ok({ email: await removeUser(c.ctx, c.params.email) }),
  },
  {
    method: "PUT",
    path: "users/:email/password",
    cli: "user passwd EMAIL",
    handle: async (c) =>
      ok({ email: await setPassword(c.ctx, c.params.email, passwordOf(c.body)) }),
  },
  {
    method: "PUT",
    path: "users/:email/quota",
    cli: "user quota EMAIL SIZE|none",
    handle: async (c) => ok(await setQuota(c.ctx, c.params.email, stringField(c.body, "quota"))),
  },
  {
    method: "PUT",
    path: "users/:email/role",
    cli: "user role EMAIL admin|user",
    handle: async (c) => ok(await setRole(c.ctx, c.params.email, stringField(c.body, "role"))),
  },
  {
    method: "GET",
    path: "aliases",
    cli: "alias list",
    handle: async (c) => ok({ aliases: await listAliases(c.ctx) }),
  },
  {
    method: "POST",
    path: "aliases",
    cli: "alias add SOURCE TARGET[,TARGET...]",
    handle: async (c) =>
      ok(await setAlias(c.ctx, stringField(c.body, "source"), listField(c.body, "targets")), 201),
  },
  {
    method: "DELETE",
    path: "aliases/:source",
    cli: "alias remove SOURCE",
    handle: async (c) => ok({ source: await removeAlias(c.ctx, c.params.source) }),
  },
  {
    method: "GET",
    path: "dmarc",
    cli: "dmarc report [--domain D]",
    handle: async (c) =>
      ok({
        domains: await dmarcSummary(c.ctx.store, c.url.searchParams.get("domain") ?? undefined),
      }),
  },
  {
    method: "GET",
    path: "queue",
    cli: "queue list",
    handle: async (c) =>
      ok({
        queue: (await listQueue(c.ctx)).map(({ meta, ...e }) => ({
          ...e,
          // A bounce or delay notice (core/queue/notices.ts) names the entry it is about.
          bounceOf: typeof meta.bounceOf === "number" ? meta.bounceOf : null,
          notice: typeof meta.action === "string" ? meta.action : null,
        })),
      }),
  },
  {
    method: "POST",
    path: "queue/flush",
    cli: "queue flush",
    handle: async (c) => ok({ retried: await flushQueue(c.ctx) }),
  },
  {
    method: "POST",
    path: "queue/:id/retry",
    cli: "queue retry ID",
    handle: async (c) => ok({ id: await retryEntry(c.ctx, c.params.id) }),
  },
  {
    method: "DELETE",
    path: "queue/:id",
    cli: "queue drop ID",
    handle: async (c) => ok({ id: await dropEntry(c.ctx, c.params.id) }),
  },
  {
    method: "GET",
    path: "plugins",
    cli: "plugin list",
    handle: (c) => Promise.resolve(ok(pluginsView(c.deps))),
  },
  {
    method: "GET",
    path: "server",
    cli: "(none)",
    handle: async (c) => ok(await serverView(c.deps, c.gauges, c.started)),
  },
  {
    method: "GET",
    path: "audit",
    cli: "(none)",
    handle: async (c) => ok(await auditPage(c.ctx.store, c.url)),
  },
  {
    method: "GET",
    path: "audit/export",
    cli: "(none)",
    handle: (c) => Promise.resolve(auditExport(c.ctx.store)),
  },
  ...MORE_ROUTES,
];

/** Matches decoded `segments` against a route path; the params, or null. */
export function matchPath(path: string, segments: string[]): Record<string, string> | null {
  const parts = path.split("/");
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = Object.create(null);
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].startsWith(":")) params[parts[i].slice(1)] = segments[i];
    else if (parts[i] !== segments[i]) return null;
  }
  return params;
}
