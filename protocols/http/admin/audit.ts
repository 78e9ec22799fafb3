/**
 * The audit log over HTTP: `GET /api/admin/audit?limit=N&before=ID` (newest first, paged by
 * id) and `GET /api/admin/audit/export` (every entry as JSON lines, newest first, streamed
 * page by page so the export never holds the whole log in memory).
 *
 * @module
 */
import type { AuditEntry, Store } from "../../../storage/mod.ts";
import { UsageError } from "../../../core/admin/errors.ts";

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
/** Entries read per page of the export. */
const EXPORT_PAGE = 500;

/** An entry as the API shows it: `detail` parsed, the time as ISO 8601 too. */
function view(e: AuditEntry) {
  let detail: unknown = {};
  try {
    detail = JSON.parse(e.detail);
  } catch { /* written by us as JSON; keep {} if not */ }
  return { ...e, time: new Date(e.at).toISOString(), detail };
}

function positiveInt(raw: string | null, name: string, max: number): number | undefined {
  if (raw === null) return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(raw) || Number(raw) > max) {
    throw new UsageError(`${name} must be a whole number from 1 to ${max}`);
  }
  return Number(raw);
}

/** One page; `next` is the `before` of the following page, null at the end. */
export async function auditPage(store: Store, url: URL) {
  const limit = positiveInt(url.searchParams.get("limit"), "limit", MAX_LIMIT) ?? DEFAULT_LIMIT;
  const before = positiveInt(url.searchParams.get("before"), "before", Number.MAX_SAFE_INTEGER);
  const entries = await store.listAudit({ limit, before });
  const next = entries.length === limit ? entries[entries.length - 1].id : null;
  return { entries: entries.map(view), next };
}

/** The whole log as JSON lines (application/x-ndjson). */
export function auditExport(store: Store): Response {
  const enc = new TextEncoder();
  let before: number | undefined;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const page = await store.listAudit({ limit: EXPORT_PAGE, before });
      if (page.length > 0) {
        controller.enqueue(enc.encode(page.map((e) => JSON.stringify(view(e)) + "\n").join("")));
        before = page[page.length - 1].id;
      }
      if (page.length < EXPORT_PAGE) controller.close();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": 'attachment; filename="denomail-audit.jsonl"',
    },
  });
}
