/** The Queue page: each queued message with its recipients, next attempt and last error; retry or drop. */
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
}

export function QueuePage(props: { session: Session }) {
  const { session } = props;
  const queue = useLoad<{ queue: Entry[] }>(session, "queue");
  const [error, setError] = useState<string | null>(null);
  const act = async (method: "POST" | "DELETE", path: string) => {
    setError(null);
    try {
      await call(session.token, method, path);
    } catch (e) {
      if (!session.fail(e as Error)) setError((e as Error).message);
    }
    queue.reload();
  };
  const entries = queue.data?.queue ?? [];
  return (
    <>
      <button type="button" onClick={() => act("POST", "queue/flush")}>Retry all now</button>
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
              <td>{e.sender || "<>"}</td>
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
    </>
  );
}
