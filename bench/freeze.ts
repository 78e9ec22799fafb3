/**
 * `deno task bench freeze [--give-up MS]`: how long one client's heavy IMAP command holds
 * the others (issue 13 items 2 and 3). A server process is seeded with a few MB
 * (tests/lib/imap_heavy.ts); for each heavy command the table shows how long it ran, the
 * longest NOOP round trip of a second client meanwhile, and how long a new connection
 * waited for its greeting. Target: NOOP and greeting under 100 ms.
 *
 * Run against an older checkout the same way to get the "before" column: a frozen server
 * is given up on after --give-up ms (default 60,000) and killed.
 *
 * @module
 */
import { RawImap } from "../tests/imap_helpers.ts";
import {
  HEAVY,
  type HeavyCommand,
  LONG_NAME,
  noopLatencyDuring,
  OVER_LIMIT,
  seedHeavy,
  send,
} from "../tests/lib/imap_heavy.ts";
import { startDenomailProcess } from "../tests/lib/server_process.ts";
import { flag } from "./smtp.ts";

const USER = "bench@example.test";
const PASS = "bench-freeze-1";

export async function benchFreeze(args: string[]): Promise<void> {
  const giveUp = Number(flag(args, "--give-up") ?? 60_000);
  const srv = await startDenomailProcess({
    prefix: "denomail-freeze-",
    listen: ["imap"],
    user: [USER, PASS],
  });
  const port = srv.proc.ports.imap;
  const rows: string[][] = [];
  try {
    const setup = await RawImap.login(port, USER, PASS);
    const probe = await RawImap.login(port, USER, PASS);
    await seedHeavy(setup);
    const cases: Array<[string, HeavyCommand]> = [
      ["FETCH 1000 x BINARY.SIZE[2] (4.2 MB part)", HEAVY.fetch],
      ["FETCH 1001 items", { select: "INBOX", command: OVER_LIMIT.fetch }],
      ["SEARCH 100 BODY keys (2,000 msgs, 8 MB)", HEAVY.searchBody],
      ["SEARCH 101 BODY keys", { select: "Big", command: OVER_LIMIT.search }],
      ["SEARCH 100 TO keys (300 msgs x 100 rcpts)", HEAVY.searchTo],
      ["LIST *%x30 (60-letter name)", HEAVY.list], // last: the old code never finished it
    ];
    for (const [label, heavy] of cases) {
      const c = await RawImap.login(port, USER, PASS);
      if (heavy.select) await c.command(`SELECT ${heavy.select}`);
      const reply = send(c, heavy.command);
      // A new client's greeting while the command runs.
      const g0 = performance.now();
      const greeting = RawImap.connect(port).then((r) => {
        r.client.close();
        return performance.now() - g0;
      }).catch(() => -1); // a frozen server is killed before it greets
      const r = await noopLatencyDuring(probe, reply, giveUp);
      const frozen = r.maxMs >= giveUp;
      const g = frozen ? "-" : `${(await greeting).toFixed(0)} ms`;
      const answer = frozen ? "(gave up)" : (await reply).split(" ").slice(1, 3).join(" ");
      rows.push([label, `${r.heavyMs.toFixed(0)} ms`, `${r.maxMs.toFixed(0)} ms`, g, answer]);
      if (frozen) break; // the server is still busy: later rows would measure that
      c.close();
    }
    setup.close();
    probe.close();
  } finally {
    await srv.proc.kill();
    await Deno.remove(srv.dir, { recursive: true }).catch(() => {});
  }
  const head = ["command", "ran", "max NOOP", "greeting", "reply"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(`(LONG_NAME: ${LONG_NAME.length} letters)`);
}
