/**
 * `GET /api/admin/activity?kind=&ip=&address=&message=&limit=&before=`: the node's recent
 * activity (core/activity.ts), newest first and filtered, with the per-hour counts of the
 * last day and the addresses the login throttle makes wait now.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import type { ActivityKind } from "../../../core/activity.ts";
import { UsageError } from "../../../core/admin/errors.ts";

const KINDS: readonly ActivityKind[] = [
  "received",
  "submitted",
  "spam",
  "delivered",
  "deferred",
  "bounced",
  "bounce_sent",
  "refused",
  "login_failed",
  "throttled",
];
const MAX_LIMIT = 500;
/** Longest search text looked at (an address, an IP, a message id). */
const MAX_TEXT = 320;

function text(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name)?.trim();
  if (!v) return undefined;
  if (v.length > MAX_TEXT) throw new UsageError(`${name} must be at most ${MAX_TEXT} characters`);
  return v;
}

function whole(url: URL, name: string, max: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === "") return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(v) || Number(v) > max) {
    throw new UsageError(`${name} must be a whole number from 1 to ${max}`);
  }
  return Number(v);
}

export function activityView(deps: ServerDeps, url: URL) {
  const kind = text(url, "kind");
  if (kind && !KINDS.includes(kind as ActivityKind)) {
    throw new UsageError(`kind must be one of ${KINDS.join(", ")}`);
  }
  const limit = whole(url, "limit", MAX_LIMIT) ?? 100;
  const events = deps.activity?.query({
    kind,
    ip: text(url, "ip"),
    address: text(url, "address"),
    message: text(url, "message"),
    before: whole(url, "before", Number.MAX_SAFE_INTEGER),
    limit,
  }) ?? [];
  return {
    events: events.map((e) => ({ ...e, time: new Date(e.at).toISOString() })),
    next: events.length === limit ? events[events.length - 1].id : null,
    hourly: deps.activity?.hourly(24) ?? [],
    throttled: deps.auth.throttle.blocked().map((b) => ({
      address: b.address,
      failures: b.failures,
      until: new Date(b.until).toISOString(),
    })),
  };
}
