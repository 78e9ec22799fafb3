/**
 * Abusive connections against a real `serve` process (issue 13 items 5, 6, 7, 16): large
 * literals before login, slowloris clients, raw TCP floods of an implicit-TLS listener, and
 * what every session hears when the server shuts down. Memory and file handles are read
 * from /proc of the server process.
 *
 * Pop3Wire is used as a plain line client for all three protocols (it has read deadlines).
 *
 * @module
 */
import assert from "node:assert/strict";
import { cli, startDenomailProcess } from "./lib/server_process.ts";
import { Pop3Wire } from "./pop3_wire.ts";
import { until } from "./spam_helpers.ts";

const USER = "alice@example.test";
const PASS = "correct horse battery";
const enc = new TextEncoder();

async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function fdCount(pid: number): Promise<number> {
  let n = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) n++;
  return n;
}

/** Connects and reads the one-line greeting. */
async function connect(port: number, deadlineMs = 10_000): Promise<Pop3Wire> {
  return (await Pop3Wire.connect(port, { deadlineMs })).client;
}

/** Reads lines until one starts with `prefix`; returns it. */
async function lineStarting(c: Pop3Wire, prefix: string): Promise<string> {
  for (;;) {
    const l = await c.line();
    if (l.startsWith(prefix)) return l;
  }
}

/**
 * Sends `text` one byte every `everyMs` (each byte far within any per-read timeout) while
 * reading the server's next line; returns that line and when it came.
 */
async function dribbleUntilReply(c: Pop3Wire, text: string, everyMs: number) {
  const t0 = Date.now();
  let answered = false;
  const reply = c.line().finally(() => answered = true);
  for (const ch of text) {
    if (answered) break;
    try {
      await c.send(ch);
    } catch {
      break; // the server closed
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const line = await reply;
  return { line, ms: Date.now() - t0 };
}

Deno.test("conn abuse: pre-login literals are refused early and slow clients cut at the deadline", async (t) => {
  const srv = await startDenomailProcess({
    prefix: "denomail-abuse-",
    listen: ["smtp", "imap", "pop3"],
    user: [USER, PASS],
    tables: `[limits]\ncommand_line_timeout = "1s"\nmin_data_rate = 200\n`,
  });
  const pid = srv.proc.child.pid;
  try {
    await t.step("IMAP before login: a literal over 32 KiB gets no continuation", async () => {
      const c = await connect(srv.proc.ports.imap);
      // RFC 7888 §4 / RFC 9051 §4.3: refused at once, the literal is never asked for.
      assert.equal(await c.cmd("a LOGIN {65536}"), "a BAD [TOOBIG] Literal too large");
      // Small literals still work before login.
      await c.send(`b LOGIN {${USER.length}}\r\n`);
      assert.equal(await c.line(), "+ Ready for literal data");
      await c.send(`${USER} {${PASS.length}+}\r\n${PASS}\r\n`);
      assert.match(await lineStarting(c, "b "), /^b OK/);
      c.close();
    });

    await t.step(
      "IMAP before login: a chain of literals is cut at 32 KiB with a reply and BYE",
      async () => {
        const c = await connect(srv.proc.ports.imap);
        const lit = "x".repeat(4096);
        // LITERAL- literals (4 KiB each, RFC 7888 §5): seven fit; the eighth would take the
        // command over 32 KiB, and as it is already on its way (non-synchronizing), the
        // session ends.
        await c.send(`c LOGIN {4096+}\r\n${`${lit} {4096+}\r\n`.repeat(7)}`);
        assert.equal(await c.line(), "c BAD [TOOBIG] Literal too large");
        assert.equal(await c.line(), "* BYE Command too large before login");
        assert.equal(await c.rest(), "");
      },
    );

    await t.step("IMAP after login: a command other than APPEND stays within 1 MiB", async () => {
      const c = await connect(srv.proc.ports.imap);
      await c.send(`a LOGIN "${USER}" "${PASS}"\r\n`);
      assert.match(await lineStarting(c, "a "), /^a OK/);
      const lit = "z".repeat(60_000);
      await c.send("s SEARCH TEXT {60000}\r\n");
      let granted = 0;
      for (;;) {
        const l = await c.line();
        if (!l.startsWith("+ ")) {
          // 17 literals of 60,000 octets fit in 1 MiB; the 18th would not, and is refused unsent.
          assert.equal(l, "s BAD [TOOBIG] Literal too large");
          break;
        }
        granted++;
        await c.send(`${lit} TEXT {60000}\r\n`);
      }
      assert.equal(granted, 17);
      assert.match(await c.cmd("n NOOP"), /^n OK/);
      c.close();
    });

    await t.step("IMAP: 40 clients flooding pre-login literals leave memory bounded", async () => {
      const N = 40;
      const FLOOD = 2 * 1024 * 1024; // per client, as 4 KiB non-synchronizing literals
      const lit = "x".repeat(4096);
      const flood = enc.encode(`f LOGIN {4096+}\r\n${`${lit} {4096+}\r\n`.repeat(FLOOD / 4096)}`);
      const before = await rssBytes(pid);
      let peak = before;
      const sampler = setInterval(async () => {
        peak = Math.max(peak, await rssBytes(pid).catch(() => 0));
      }, 50);
      const t0 = Date.now();
      await Promise.all(Array.from({ length: N }, async () => {
        const c = await connect(srv.proc.ports.imap);
        const sent = c.send(flood).catch(() => {}); // the server closes long before the end
        await c.rest().catch(() => ""); // EOF (or a reset): the server gave up on us
        await sent;
      }));
      const elapsed = Date.now() - t0;
      clearInterval(sampler);
      const after = await rssBytes(pid);
      peak = Math.max(peak, after);
      console.log(
        `pre-login flood: ${N} x ${FLOOD >> 20} MiB, closed in ${elapsed} ms; RSS ` +
          `${before >> 20} MiB before, ${peak >> 20} MiB peak, ${after >> 20} MiB after`,
      );
      // Before the fix every client's literals were held: 40 x 2 MiB and their copies.
      assert.ok(peak - before < 48 * 1024 * 1024, `RSS grew by ${(peak - before) >> 20} MiB`);
      assert.ok(after - before < 32 * 1024 * 1024, `RSS kept ${(after - before) >> 20} MiB`);
    });

    await t.step(
      "a command line dribbled byte by byte is cut at command_line_timeout",
      async () => {
        // One byte every 150 ms: each read succeeds long before the 5-30 minute idle timers.
        const slow = (p: number) => connect(p);
        const [smtp, imap, pop3] = await Promise.all([
          slow(srv.proc.ports.smtp),
          slow(srv.proc.ports.imap),
          slow(srv.proc.ports.pop3),
        ]);
        const line = "a command line that would take about five seconds to send\r\n";
        const [s, i, p] = await Promise.all([
          dribbleUntilReply(smtp, `EHLO ${line}`, 150),
          dribbleUntilReply(imap, `a NOOP ${line}`, 150),
          dribbleUntilReply(pop3, `USER ${line}`, 150),
        ]);
        // RFC 5321 §4.5.3.2 421 4.4.2; RFC 9051 §7.1.5 BYE; RFC 1939 -ERR.
        assert.match(s.line, /^421 4\.4\.2 /);
        assert.equal(i.line, "* BYE Command sent too slowly");
        assert.equal(p.line, "-ERR Command sent too slowly");
        console.log(`slowloris cut after: smtp ${s.ms} ms, imap ${i.ms} ms, pop3 ${p.ms} ms`);
        for (const r of [s, i, p]) assert.ok(r.ms < 4000, `cut after ${r.ms} ms`);
        for (const c of [smtp, imap, pop3]) assert.equal(await c.rest(), "");
      },
    );

    await t.step("SMTP DATA slower than min_data_rate gets 421 4.4.2", async () => {
      const c = await connect(srv.proc.ports.smtp);
      await c.send("EHLO client.test\r\n");
      await lineStarting(c, "250 ");
      assert.match(await c.cmd("MAIL FROM:<someone@example.org>"), /^250 /);
      assert.match(await c.cmd(`RCPT TO:<${USER}>`), /^250 /);
      assert.match(await c.cmd("DATA"), /^354 /);
      // About 7 octets a second against a floor of 200.
      const body = "Subject: slow\r\n\r\n" + "y".repeat(200) + "\r\n.\r\n";
      const r = await dribbleUntilReply(c, body, 150);
      assert.match(r.line, /^421 4\.4\.2 /);
      console.log(`slow DATA cut after ${r.ms} ms`);
      assert.ok(r.ms < 5000, `cut after ${r.ms} ms`);
      assert.equal(await c.rest(), "");
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("conn abuse: an implicit-TLS listener refuses over-limit sockets before the handshake", async () => {
  const srv = await startDenomailProcess({
    prefix: "denomail-tlsflood-",
    listen: ["imaps"],
    user: [USER, PASS],
    tables: `[limits]\nmax_connections_per_ip = 4\ntls_handshake_timeout = "3s"\n`,
  });
  const pid = srv.proc.child.pid;
  const port = srv.proc.ports.imaps;
  const raws: Deno.Conn[] = [];
  /** Milliseconds until the server closes a raw connection that never speaks TLS. */
  const closedAfter = async (c: Deno.Conn, t0: number) => {
    try {
      while (await c.read(new Uint8Array(1024)) !== null) { /* nothing expected */ }
    } catch { /* reset */ }
    return Date.now() - t0;
  };
  try {
    const fdBefore = await fdCount(pid);
    const t0 = Date.now();
    const held: Promise<number>[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      raws.push(c);
      held.push(closedAfter(c, t0));
    }
    const extra: Promise<number>[] = [];
    for (let i = 0; i < 40; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      raws.push(c);
      const opened = Date.now();
      extra.push(closedAfter(c, opened));
    }
    const extraMs = await Promise.all(extra);
    const fdDuring = await fdCount(pid);
    console.log(
      `imaps flood: 44 raw connections from one address; server fds ${fdBefore} before, ` +
        `${fdDuring} with them open; extras closed in <= ${Math.max(...extraMs)} ms`,
    );
    for (const ms of extraMs) assert.ok(ms < 1500, `an over-limit socket lived ${ms} ms`);
    assert.ok(fdDuring <= fdBefore + 4 + 4, `fds ${fdBefore} -> ${fdDuring}`);
    // The ones within the limit that never start TLS end at tls_handshake_timeout.
    for (const ms of await Promise.all(held)) {
      assert.ok(ms >= 2500 && ms < 8000, `a silent socket was closed after ${ms} ms`);
    }
    // A real TLS client gets in afterwards.
    const ca = await Deno.readTextFile(`${srv.dir}/data/tls/cert.pem`);
    const tls = await Pop3Wire.connect(port, { caPem: ca });
    assert.match(tls.greeting, /^\* OK /);
    tls.client.close();
  } finally {
    for (const c of raws) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await srv.stop();
  }
});

Deno.test("conn abuse: SIGTERM says goodbye in each protocol, finishes or 421s a DATA, exits < 5 s, removes the pid file", async () => {
  const srv = await startDenomailProcess({
    prefix: "denomail-shutdown-",
    listen: ["smtp", "imap", "pop3", "imaps"],
    user: [USER, PASS],
  });
  const ports = srv.proc.ports;
  const pidFile = `${srv.dir}/data/denomail.pid`;
  try {
    // serve writes its pid file just after the listeners are up.
    await until("the pid file", () => Deno.stat(pidFile).then(() => true, () => null));
    const idleSmtp = await connect(ports.smtp);
    await idleSmtp.send("EHLO idle.test\r\n");
    await lineStarting(idleSmtp, "250 ");
    // A second SMTP client is in the middle of a DATA when the signal comes.
    const busy = await connect(ports.smtp);
    await busy.send("EHLO busy.test\r\n");
    await lineStarting(busy, "250 ");
    assert.match(await busy.cmd("MAIL FROM:<someone@example.org>"), /^250 /);
    assert.match(await busy.cmd(`RCPT TO:<${USER}>`), /^250 /);
    assert.match(await busy.cmd("DATA"), /^354 /);
    await busy.send("Subject: in flight\r\n\r\nfirst half\r\n");
    // A third never finishes its DATA: it gets 421 when the grace period ends, and the
    // message is not acknowledged (the sender keeps it and retries).
    const stuck = await connect(ports.smtp);
    await stuck.send("EHLO stuck.test\r\n");
    await lineStarting(stuck, "250 ");
    assert.match(await stuck.cmd("MAIL FROM:<someone@example.org>"), /^250 /);
    assert.match(await stuck.cmd(`RCPT TO:<${USER}>`), /^250 /);
    assert.match(await stuck.cmd("DATA"), /^354 /);
    await stuck.send("Subject: never ends\r\n\r\npartial");
    const imap = await connect(ports.imap);
    await imap.send(`a LOGIN "${USER}" "${PASS}"\r\n`);
    assert.match(await lineStarting(imap, "a "), /^a OK/);
    const pop3 = await connect(ports.pop3);
    assert.match(await pop3.login(USER, PASS), /^\+OK/);
    const ca = await Deno.readTextFile(`${srv.dir}/data/tls/cert.pem`);
    const imaps = (await Pop3Wire.connect(ports.imaps, { caPem: ca })).client;

    const t0 = Date.now();
    srv.proc.child.kill("SIGTERM");
    // Sessions waiting for a command hear their goodbye at once.
    const [smtpBye, imapBye, pop3Bye, imapsBye] = await Promise.all([
      idleSmtp.line(),
      imap.line(),
      pop3.line(),
      imaps.line(),
    ]);
    assert.equal(imapsBye, "* BYE Server shutting down");
    assert.match(smtpBye, /^421 4\.3\.2 /);
    assert.equal(imapBye, "* BYE Server shutting down");
    assert.equal(pop3Bye, "-ERR [SYS/TEMP] Server shutting down");
    // The DATA under way may finish within the grace period: it is committed and
    // acknowledged, then the session gets its 421.
    await busy.send("second half\r\n.\r\n");
    assert.match(await busy.line(), /^250 2\.0\.0 Message accepted/);
    assert.match(await busy.line(), /^421 4\.3\.2 /);
    assert.match(await stuck.line(), /^421 4\.3\.2 /);
    for (const c of [idleSmtp, imap, pop3, busy, imaps, stuck]) {
      assert.equal(await c.rest(), "");
    }
    const status = await srv.proc.child.status;
    const ms = Date.now() - t0;
    console.log(`shutdown: exited with ${status.code} ${ms} ms after SIGTERM`);
    assert.equal(status.code, 0);
    assert.ok(ms < 5000, `exit took ${ms} ms`);
    await assert.rejects(() => Deno.stat(pidFile), Deno.errors.NotFound);
  } finally {
    await srv.stop();
  }
});

/** Pids of the direct children of `pid` (from every thread's children list). */
async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    const text = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/children`).catch(() => "");
    for (const p of text.trim().split(/\s+/)) if (p) out.push(Number(p));
  }
  return out;
}

Deno.test("conn abuse: a stop that also signals the plugin processes logs no warning", async () => {
  // A service manager's stop (SIGTERM to the whole cgroup) or Ctrl-C (SIGINT to the process
  // group) reaches the plugin runners at the same moment as the server.
  const noop = new URL("./fixtures/plugins/noop.ts", import.meta.url).pathname;
  const srv = await startDenomailProcess({
    prefix: "denomail-stop-plugins-",
    listen: ["smtp"],
    user: [USER, PASS],
    tables: `[[plugins]]\nname = "noop"\nmodule = "${noop}"\n`,
  });
  try {
    const pid = srv.proc.child.pid;
    const children = await until("the plugin process", async () => {
      const c = await childPids(pid);
      return c.length > 0 ? c : null;
    });
    for (const p of [pid, ...children]) Deno.kill(p, "SIGTERM");
    const status = await srv.proc.child.status;
    assert.equal(status.code, 0);
    const noisy = srv.proc.log().split("\n").filter((l) => / (WARN|ERROR) /.test(l));
    assert.deepEqual(noisy, []);
  } finally {
    await srv.stop();
  }
});

Deno.test("conn abuse: the deadline keys of [limits] are checked (exit 2 naming the key)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-limits-keys-" });
  try {
    for (
      const [table, key] of [
        [`command_line_timeout = "0s"`, "limits.command_line_timeout"],
        [`tls_handshake_timeout = "soon"`, "limits.tls_handshake_timeout"],
        [`min_data_rate = -1`, "limits.min_data_rate"],
      ]
    ) {
      const path = `${dir}/denomail.toml`;
      await Deno.writeTextFile(path, `data_dir = "${dir}/data"\n[limits]\n${table}\n`);
      const r = await cli(["serve", "--config", path]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(r.stderr.includes(key), r.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
