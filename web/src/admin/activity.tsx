/**
 * The Activity page: per-hour charts (messages in/out, spam, refusals), the recent events
 * of this node — deliveries, refusals, failed logins, throttled addresses — searchable by
 * address, IP and message id (GET activity), and the audit log of admin changes (GET audit).
 *
 * @module
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import { LineChart } from "./chart.tsx";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

interface ActEvent {
  id: number;
  time: string;
  kind: string;
  reason?: string;
  protocol: string;
  ip: string;
  addresses: string[];
  message: string;
  detail: string;
}

interface Hour {
  hour: number;
  in: number;
  out: number;
  spam: number;
  refused: number;
  loginFailed: number;
}

interface Activity {
  events: ActEvent[];
  hourly: Hour[];
  throttled: Array<{ address: string; failures: number; until: string }>;
}

const KINDS: Record<string, string> = {
  received: "received",
  submitted: "submitted",
  spam: "spam",
  delivered: "delivered",
  deferred: "deferred",
  bounced: "bounced",
  bounce_sent: "bounce sent",
  refused: "refused",
  login_failed: "failed login",
  throttled: "throttled",
};

const REASONS: Record<string, string> = {
  unknown_recipient: "unknown recipient",
  relay: "relay attempt",
  plugin: "plugin reject",
  spam: "spam",
  other: "",
};

interface AuditEntry {
  time: string;
  actor: string;
  ip: string;
  action: string;
  target: string;
}

/** Downloads GET audit/export (it needs the Authorization header, so not a plain link). */
async function exportAudit(session: Session) {
  const res = await fetch("/api/admin/audit/export", {
    headers: { authorization: `Bearer ${session.token}` },
  });
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = "denomail-audit.jsonl";
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ActivityPage(props: { session: Session }) {
  const [query, setQuery] = useState("");
  const activity = useLoad<Activity>(props.session, `activity?limit=200${query}`);
  const audit = useLoad<{ entries: AuditEntry[] }>(props.session, "audit?limit=50");
  const search = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const p = new URLSearchParams();
    for (const k of ["address", "ip", "message", "kind"]) {
      const v = String(data.get(k) ?? "").trim();
      if (v) p.set(k, v);
    }
    const q = p.toString();
    setQuery(q ? `&${q}` : "");
    activity.reload();
  };
  const a = activity.data;
  const hours = a?.hourly.map((h) => h.hour) ?? [];
  return (
    <>
      {activity.error && <p role="alert" class="error">{activity.error}</p>}
      {a && (
        <div class="charts">
          <LineChart
            title="Messages per hour"
            hours={hours}
            series={[
              { label: "in", cls: "s-in", values: a.hourly.map((h) => h.in) },
              { label: "out", cls: "s-out", values: a.hourly.map((h) => h.out) },
            ]}
          />
          <LineChart
            title="Spam and refusals per hour"
            hours={hours}
            series={[
              { label: "spam", cls: "s-spam", values: a.hourly.map((h) => h.spam) },
              { label: "refused", cls: "s-refused", values: a.hourly.map((h) => h.refused) },
              {
                label: "failed logins",
                cls: "s-login",
                values: a.hourly.map((h) => h.loginFailed),
              },
            ]}
          />
        </div>
      )}
      <form class="add-form" role="search" aria-label="Search activity" onSubmit={search}>
        <label>
          Address
          <input name="address" autocomplete="off" />
        </label>
        <label>
          IP address
          <input name="ip" autocomplete="off" />
        </label>
        <label>
          Message id
          <input name="message" autocomplete="off" />
        </label>
        <label>
          Kind
          <select name="kind">
            <option value="">any</option>
            {Object.entries(KINDS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
        <div class="actions">
          <button type="submit">Search</button>
        </div>
      </form>
      {a && a.throttled.length > 0 && (
        <table aria-label="Throttled addresses">
          <thead>
            <tr>
              <th scope="col">Address</th>
              <th scope="col">Failures</th>
              <th scope="col">Waits until</th>
            </tr>
          </thead>
          <tbody>
            {a.throttled.map((b) => (
              <tr key={b.address}>
                <td>{b.address}</td>
                <td>{b.failures}</td>
                <td>{new Date(b.until).toLocaleTimeString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <table aria-label="Activity">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col">Via</th>
            <th scope="col">IP</th>
            <th scope="col">Addresses</th>
            <th scope="col">Message</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {a?.events.map((e) => (
            <tr key={e.id} class={`act-${e.kind}`}>
              <td>{new Date(e.time).toLocaleString()}</td>
              <td>
                {KINDS[e.kind] ?? e.kind}
                {e.reason && REASONS[e.reason] ? `: ${REASONS[e.reason]}` : ""}
              </td>
              <td>{e.protocol}</td>
              <td>{e.ip}</td>
              <td>{e.addresses.join(", ")}</td>
              <td class="value">{e.message}</td>
              <td class="value">{e.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {a && a.events.length === 0 && <p class="note">Nothing matches.</p>}
      <h2>Admin changes</h2>
      {audit.error && <p role="alert" class="error">{audit.error}</p>}
      <table aria-label="Admin changes">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">From</th>
            <th scope="col">What</th>
            <th scope="col">On</th>
          </tr>
        </thead>
        <tbody>
          {audit.data?.entries.map((e, i) => (
            <tr key={i}>
              <td>{new Date(e.time).toLocaleString()}</td>
              <td>{e.actor}</td>
              <td>{e.ip}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => exportAudit(props.session)}>
        Export the audit log (JSON lines)
      </button>
    </>
  );
}
