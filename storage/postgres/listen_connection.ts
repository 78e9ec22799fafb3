/**
 * A dedicated connection for LISTEN (the change bus, the directory cache): one connection
 * that never idles out or ages out, told of each notification and of its own loss so its
 * owner can LISTEN again once the database is back. `onnotify` and `onclose` are connection
 * options the driver's typings leave out (its own `listen()` uses them; we keep our own so
 * that LISTEN is retried for as long as it takes).
 *
 * @module
 */
import postgres from "postgres";
import { noDelayOnConnect } from "./no_delay.ts";

export interface ListenHandlers {
  onnotify: (channel: string, payload: string) => void;
  onclose: () => void;
  /** Shown in pg_stat_activity (lets tests and admins find the connection). */
  applicationName?: string;
}

export function listenConnection(url: string, h: ListenHandlers): postgres.Sql {
  const options = {
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    fetch_types: false,
    onnotice: () => {},
    ...(h.applicationName ? { connection: { application_name: h.applicationName } } : {}),
    onnotify: h.onnotify,
    onclose: h.onclose,
  };
  noDelayOnConnect();
  return postgres(url, options as unknown as postgres.Options<Record<string, never>>);
}
