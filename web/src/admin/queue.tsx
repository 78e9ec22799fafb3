/**
 * The Queue page: each queued message with its recipients, next attempt and last error
 * (bounces and delay notices marked); retry, drop, flush; and the bounces sent lately
 * (GET activity?kind=bounce_sent).
 *
 * @module
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import { call } from "./api.ts";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

interface Entry {
  id: number;
  sender: string;
  recipients: Array<{ address: string; status: string; lastError?: string }>;
  nextAttemptAt: number;
  attempts: number;
  lastError: string | null;
  bounceOf: number | null;
  notice: string | null;
}

interface Bounce {
  id: number;
  time: string;
  addresses: string[];
  message: string;
  detail: string;
}

export function QueuePage(props: { session: Session }) {
  const { session } = props;
  const queue = useLoad<{ queue: Entry[] }>(session, "queue");
  const bounces = useLoad<{ events: Bounce[] }>(session, "activity?kind=bounce_sent&limit=50");
  const [error, setError] = useState<string | null>(null);
  const act = async (method: "POST" | "DELETE", path: string) => {
    setError(null);
    try {
      await call(session.token, method, path);
    } catch (e) {
      if (!session.fail(e as Error)) setError((e as Error).message);
    }
    queue.reload();
    bounces.reload();
  };
  const entries = queue.data?.queue ?? [];
  return (
    <>
      <button type="button" onClick={() => act("POST", "queue/flush")}>Flush queue</button>
      {(queue.error ?? error) && <p role="alert" class="error">{queue.error ?? error}</p>}
      {queue.data && entries.length === 0 && <p class="note">The queue is empty.</p>}
      <table aria-label="Queue">
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Attempts</th>
            <th scope="col">Next attempt</th>
            <th scope="col">Last error</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{e.id}</td>
              <td>
                {e.sender || "<>"}
                {e.bounceOf !== null &&
                  ` (${e.notice === "delayed" ? "delay notice" : "bounce"} of ${e.bounceOf})`}
              </td>
              <td>{e.recipients.map((r) => `${r.address} (${r.status})`).join(", ")}</td>
              <td>{e.attempts}</td>
              <td>{new Date(e.nextAttemptAt).toLocaleString()}</td>
              <td>{e.lastError ?? ""}</td>
              <td>
                <button type="button" onClick={() => act("POST", `queue/${e.id}/retry`)}>
                  Retry
                </button>{" "}
                <button type="button" onClick={() => act("DELETE", `queue/${e.id}`)}>Drop</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Bounces sent</h2>
      {bounces.data && bounces.data.events.length === 0 && (
        <p class="note">No bounce sent since the server started.</p>
      )}
      <table aria-label="Bounces sent">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">To (the sender)</th>
            <th scope="col">About</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {bounces.data?.events.map((b) => (
            <tr key={b.id}>
              <td>{new Date(b.time).toLocaleString()}</td>
              <td>{b.addresses[0]}</td>
              <td>{b.addresses.slice(1).join(", ")}</td>
              <td class="value">{b.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
