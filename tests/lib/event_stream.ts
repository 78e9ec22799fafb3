/**
 * JMAP EventSource clients (RFC 8620 §7.3) for the push test and `bench jmap`: a reader of
 * server-sent events from a fetch body, raw streams opened with a bearer token, and the
 * server's resident set size from /proc (Linux only).
 *
 * @module
 */
import type { Json } from "./jmap_client.ts";

/** Server-sent events read from a fetch body: `next()` resolves with the next event. */
export class EventReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(res: Response) {
    this.#reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event (comments skipped), or null at the end of the stream. */
  async next(ms = 3000): Promise<{ event: string; data: Json; at: number } | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.#buf.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buf.slice(0, end);
        this.#buf = this.#buf.slice(end + 2);
        const lines = block.split("\n").filter((l) => !l.startsWith(":"));
        if (lines.length === 0) continue;
        const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
        const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        return { event, data: JSON.parse(data), at: performance.now() };
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no event in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.#reader.read(),
        new Promise<"timeout">((res) => timer = setTimeout(() => res("timeout"), left)),
      ]);
      clearTimeout(timer);
      if (r === "timeout") throw new Error("no event in time");
      if (r.done) return null;
      this.#buf += r.value;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

/**
 * Opens `n` EventSource streams (`types=*`, no close, rare pings) over raw TCP with a bearer
 * token, 50 at a time; resolves once each has its headers and first comment. Raw
 * connections: a thousand fetch bodies would weigh on the client, not the server.
 */
export async function openBearerStreams(
  port: number,
  token: string,
  n: number,
): Promise<Deno.Conn[]> {
  const request = new TextEncoder().encode(
    `GET /jmap/eventsource/?types=*&closeafter=no&ping=300 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Authorization: Bearer ${token}\r\n\r\n`,
  );
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(50, n - i) },
          () => Deno.connect({ hostname: "127.0.0.1", port }),
        ),
      );
      conns.push(...batch);
      await Promise.all(batch.map((c) => c.write(request)));
      const buf = new Uint8Array(1024);
      await Promise.all(batch.map((c) => c.read(buf)));
    }
  } catch (e) {
    for (const c of conns) c.close();
    throw e;
  }
  return conns;
}

/** Resident set size of a process, from /proc (Linux), in bytes. */
export async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb * 1024;
}
