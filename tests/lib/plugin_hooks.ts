/**
 * Hook calls the plugin-host tests make again and again, with fixed test envelopes: an
 * `rcpt` for one local part of x.test, and a `data` for a tiny message with a given Subject.
 *
 * @module
 */
import type { HookOutcome, PluginHost } from "../../plugins/engine/host.ts";

/** Runs the rcpt hook for `<local>@x.test`, sender a@b.test. */
export function runRcpt(host: PluginHost, local: string): Promise<HookOutcome> {
  return host.run("rcpt", {
    session: { id: "t1", remoteIp: "127.0.0.1", tls: false },
    sender: { address: "a@b.test", local: "a", domain: "b.test" },
    rcpt: { address: `${local}@x.test`, local, domain: "x.test" },
    recipients: [],
  });
}

/** Runs the data hook for a three-line message with this Subject, s@example.org -> u@example.test. */
export function runData(host: PluginHost, subject: string): Promise<HookOutcome> {
  return host.run("data", {
    session: { id: "t", remoteIp: "192.0.2.1", tls: false },
    sender: { address: "s@example.org", local: "s", domain: "example.org" },
    recipients: [{ address: "u@example.test", local: "u", domain: "example.test" }],
    message: new TextEncoder().encode(`Subject: ${subject}\r\nFrom: s@example.org\r\n\r\nhi\r\n`),
  });
}
