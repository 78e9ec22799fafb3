/**
 * TCP_NODELAY on the database connections. The `postgres` driver (3.4) never asks for it,
 * and Deno's `node:net` ignores `setNoDelay` before a socket connects and never sets it
 * itself, so Nagle's algorithm held back the tail of every statement larger than one TCP
 * segment (a delivery batch is ~100 KB) until PostgreSQL acknowledged the first part:
 * one extra wait per batch, on the path to every 250. Measured with `bench cluster`
 * (README "Running several nodes"). Installed when a PostgreSQL store first connects, it
 * applies to every `node:net` socket of the process from then on: also the outbound SMTP
 * client's, which loses nothing by it (it writes whole commands and command groups).
 */
import net from "node:net";

let installed = false;

/** Makes every `node:net` socket this process connects set TCP_NODELAY once connected. */
export function noDelayOnConnect(): void {
  if (installed) return;
  installed = true;
  const proto = net.Socket.prototype as unknown as {
    connect: (this: net.Socket, ...args: unknown[]) => net.Socket;
  };
  const connect = proto.connect;
  proto.connect = function (this: net.Socket, ...args: unknown[]) {
    this.once("connect", () => this.setNoDelay(true));
    return connect.apply(this, args);
  };
}
