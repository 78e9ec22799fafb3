/**
 * Idle SMTP connections kept for the next message to the same host (connection reuse).
 * A connection idle longer than `idleMs` is closed with QUIT.
 *
 * @module
 */
import type { SmtpSession } from "./sender.ts";

interface Idle {
  client: SmtpSession;
  timer: ReturnType<typeof setTimeout>;
}

export class ConnectionPool {
  #idle = new Map<string, Idle[]>();

  constructor(readonly idleMs = 5000, readonly maxPerKey = 4) {}

  static key(ip: string, port: number): string {
    return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
  }

  /** An idle connection to ip:port, if any. */
  take(ip: string, port: number): SmtpSession | null {
    const list = this.#idle.get(ConnectionPool.key(ip, port));
    while (list && list.length > 0) {
      const it = list.pop()!;
      clearTimeout(it.timer);
      if (it.client.usable) return it.client;
      it.client.close();
    }
    return null;
  }

  /** Returns a connection after a transaction; broken ones are closed. */
  put(client: SmtpSession): void {
    if (!client.usable) {
      client.close();
      return;
    }
    const key = ConnectionPool.key(client.ip, client.port);
    let list = this.#idle.get(key);
    if (!list) this.#idle.set(key, list = []);
    if (list.length >= this.maxPerKey) {
      void client.quit();
      return;
    }
    const it: Idle = {
      client,
      timer: setTimeout(() => {
        const l = this.#idle.get(key);
        const i = l?.indexOf(it) ?? -1;
        if (i >= 0) l!.splice(i, 1);
        if (l && l.length === 0) this.#idle.delete(key);
        void client.quit();
      }, this.idleMs),
    };
    list.push(it);
  }

  /** Closes every idle connection (QUIT). */
  async closeAll(): Promise<void> {
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    for (const it of all) clearTimeout(it.timer);
    await Promise.all(all.map((it) => it.client.quit()));
  }
}
