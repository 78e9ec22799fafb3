/** The admin CLI as an admin runs it: exit codes, one-line errors naming the culprit. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, startServerProcess } from "./lib/server_process.ts";
import { type ListenerName, parseConfig } from "../core/config.ts";
import { startTestServer } from "./harness.ts";

async function withConfig(extra: string, fn: (path: string, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "denomail-cli-" });
  const path = join(dir, "denomail.toml");
  await Deno.writeTextFile(path, `data_dir = "${dir}/data"\n${extra}`);
  try {
    await fn(path, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli: bad config and bad usage exit 2 with one line naming the problem", async (t) => {
  await t.step("unknown top-level key", async () => {
    await withConfig(`bogus_key = 1\n`, async (path) => {
      const r = await cli(["domain", "list", "--config", path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown key bogus_key/);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    });
  });
  await t.step("unknown nested key", async () => {
    await withConfig(`[limits]\nmax_mesage_bytes = 10\n`, async (path) => {
      const r = await cli(["serve", "--config", path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown key limits\.max_mesage_bytes/);
    });
  });
  await t.step("wrong type and bad host:port", async () => {
    await withConfig(`[listeners]\nsmtp = "localhost"\n`, async (path) => {
      const r = await cli(["serve", "--config", path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /listeners\.smtp must be "host:port"/);
    });
    await withConfig(`[auth]\nallow_plaintext_loopback = "yes"\n`, async (path) => {
      const r = await cli(["serve", "--config", path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /auth\.allow_plaintext_loopback/);
    });
  });
  await t.step("storage: a bad database URL names storage.url, hides the password", async () => {
    const bad = `[storage]\nbackend = "postgres"\nurl = "mysql://u:secret@h/db"\n`;
    await withConfig(bad, async (path) => {
      const r = await cli(["serve", "--config", path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /storage\.url must be postgres:\/\//);
      assert.doesNotMatch(r.stderr, /secret/);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    });
    await withConfig(`[storage]\nbackend = "postgres"\n`, async (path) => {
      const r = await cli(["domain", "list", "--config", path], {
        env: { DENOMAIL_DATABASE_URL: "" },
      });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /storage\.url \(or \$DENOMAIL_DATABASE_URL\) is required/);
    });
  });
  await t.step("invalid TOML", async () => {
    await withConfig(`hostname = \n`, async (path) => {
      const r = await cli(["domain", "list", "--config", path]);
      assert.equal(r.code, 2);
      // file:line:column, so an editor can jump to it
      assert.match(r.stderr, /denomail\.toml:2:12: invalid TOML: invalid value$/m);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    });
  });
  await t.step(
    "DENOMAIL_LOG and DENOMAIL_LOG_FORMAT with a value that is not allowed",
    async () => {
      await withConfig("", async (path) => {
        const level = await cli(["domain", "list", "--config", path], {
          env: { DENOMAIL_LOG: "verbose" },
        });
        assert.equal(level.code, 2);
        assert.equal(
          level.stderr,
          "denomail: DENOMAIL_LOG=verbose is not a level; use one of debug, info, warn, error\n",
        );
        const format = await cli(["domain", "list", "--config", path], {
          env: { DENOMAIL_LOG_FORMAT: "xml" },
        });
        assert.equal(format.code, 2);
        assert.match(format.stderr, /^denomail: DENOMAIL_LOG_FORMAT=xml .*text, json\n$/);
        const ok = await cli(["domain", "list", "--config", path], {
          env: { DENOMAIL_LOG: "DEBUG", DENOMAIL_LOG_FORMAT: "json" },
        });
        assert.equal(ok.code, 0, ok.stderr);
      });
    },
  );
  await t.step("serve --bogus", async () => {
    const r = await cli(["serve", "--bogus"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --bogus/);
  });
  await t.step("unknown command and missing config file", async () => {
    assert.equal((await cli(["frobnicate"])).code, 2);
    const r = await cli(["domain", "list", "--config", "/nonexistent/x.toml"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--config: cannot read/);
  });
});

Deno.test("cli: domains, users and aliases", async () => {
  await withConfig("", async (path) => {
    const ok = async (args: string[], stdin?: string) => {
      const r = await cli([...args, "--config", path], { stdin });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(["user", "add", "Alice@Example.TEST", "--password-stdin"], "s3cret-password\n");
    assert.equal(await ok(["domain", "list"]), "example.test\n"); // user add adds its domain
    assert.equal(await ok(["user", "list"]), "alice@example.test\n");
    const dup = await cli([
      "user",
      "add",
      "alice@example.test",
      "--password-stdin",
      "--config",
      path,
    ], {
      stdin: "another-password\n",
    });
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /already exists/);
    const short = await cli(
      ["user", "add", "b@example.test", "--password-stdin", "--config", path],
      {
        stdin: "short\n",
      },
    );
    assert.equal(short.code, 2);
    const bad = await cli(["user", "add", "not-an-address", "--password-stdin", "--config", path], {
      stdin: "long-enough-pw\n",
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /EMAIL/);
    await ok(["user", "passwd", "alice@example.test", "--password-stdin"], "new-password-1\n");
    await ok(["alias", "add", "sales@example.test", "alice@example.test,bob@elsewhere.test"]);
    await ok(["alias", "add", "@example.test", "alice@example.test"]);
    assert.equal(
      await ok(["alias", "list"]),
      "@example.test\talice@example.test\nsales@example.test\talice@example.test,bob@elsewhere.test\n",
    );
    await ok(["alias", "remove", "@example.test"]);
    await ok(["domain", "add", "other.test"]);
    assert.equal(await ok(["domain", "list"]), "example.test\nother.test\n");
    await ok(["domain", "remove", "other.test"]);
    await ok(["user", "remove", "alice@example.test"]);
    assert.equal(await ok(["user", "list"]), "");
    const help = await cli(["user", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /user add EMAIL/);
  });
});

Deno.test("cli: user add says when it adds a domain and refuses a likely typo of a known one", async () => {
  await withConfig("", async (path) => {
    const add = (email: string, ...flags: string[]) =>
      cli(["user", "add", email, "--password-stdin", ...flags, "--config", path], {
        stdin: "long-enough-pw\n",
      });
    const first = await add("alice@example.test");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /added domain example\.test/);
    const known = await add("bob@example.test");
    assert.equal(known.code, 0, known.stderr);
    assert.doesNotMatch(known.stderr, /added domain/);
    const typo = await add("carol@exmaple.test");
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean example\.test\? use --create-domain/);
    assert.equal(typo.stderr.trim().split("\n").length, 1);
    const list = await cli(["domain", "list", "--config", path]);
    assert.equal(list.stdout, "example.test\n", "the typo domain was not created");
    const forced = await add("carol@exmaple.test", "--create-domain");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /added domain exmaple\.test/);
    const far = await add("dave@other.test"); // not near any known domain: added, with a note
    assert.equal(far.code, 0, far.stderr);
    assert.match(far.stderr, /added domain other\.test/);
  });
});

Deno.test("cli: a port already in use names the listener and the address", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const off = [
    "smtp",
    "submission",
    "submissions",
    "imaps",
    "pop3",
    "pop3s",
    "managesieve",
    "http",
    "https",
  ]
    .map((n) => `${n} = ""`).join("\n");
  try {
    await withConfig(`[listeners]\nimap = "127.0.0.1:${port}"\n${off}\n`, async (path) => {
      const r = await cli(["serve", "--config", path]);
      assert.equal(r.code, 1);
      const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("denomail:"));
      assert.deepEqual(errors, [
        `denomail: cannot start listeners.imap 127.0.0.1:${port}: address already in use`,
      ]);
    });
  } finally {
    taken.close();
  }
});

Deno.test("cli: serve logs the config file, the plugins loaded and a self-signed certificate", async () => {
  const hello = new URL("./fixtures/plugins/hello.ts", import.meta.url).pathname;
  const off = [
    "smtp",
    "submission",
    "submissions",
    "imaps",
    "pop3",
    "pop3s",
    "managesieve",
    "http",
    "https",
  ]
    .map((n) => `${n} = ""`).join("\n");
  await withConfig(
    `[listeners]\nimap = "127.0.0.1:0"\n${off}\n[[plugins]]\nname = "hello"\nmodule = "${hello}"\n`,
    async (path) => {
      const server = await startServerProcess(path, ["imap"]);
      try {
        const text = server.log();
        assert.match(text, new RegExp(`INFO  \\[server\\] config: ${path.replaceAll(".", "\\.")}`));
        assert.match(text, /INFO {2}\[plugin\] plugins loaded: hello\(rcpt,data\)/);
        assert.match(text, /INFO {2}\[tls\] serving a self-signed certificate for CN=localhost/);
      } finally {
        await server.stop();
      }
    },
  );
});

Deno.test("cli: init writes a production config and prints the same records as dns", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-init-" });
  try {
    const out = join(dir, "denomail.toml");
    const init = await cli([
      "init",
      "--domain",
      "example.test",
      "--hostname",
      "mail.example.test",
      "--out",
      out,
    ]);
    assert.equal(init.code, 0, init.stderr);
    const dns = await cli(["dns", "example.test", "--config", out]);
    assert.equal(dns.code, 0, dns.stderr);
    // One list for both: init prints exactly what dns prints, between its header and "Then:".
    const records = init.stdout.slice(init.stdout.indexOf("; DNS records"));
    assert.equal(records.slice(0, records.indexOf("Then:")), dns.stdout);
    assert.match(dns.stdout, /_mta-sts\.example\.test\.\tTXT/);
    assert.match(dns.stdout, /; mail\.example\.test\. needs A \(and AAAA\)/);

    const config = parseConfig(await Deno.readTextFile(out), dir, out);
    assert.equal(config.auth.allowPlaintextLoopback, false, "production: no plaintext passwords");
    for (
      const name of [
        "smtp",
        "submission",
        "submissions",
        "imap",
        "imaps",
        "pop3",
        "pop3s",
        "managesieve",
      ]
    ) {
      assert.equal(config.listeners[name as ListenerName]?.host, "::", `${name} binds [::]`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('cli: a "[::]:port" listener (init\'s production config) answers IPv4 and IPv6', async () => {
  const ts = await startTestServer({ listeners: { smtp: "[::]:0" } });
  try {
    const port = ts.port("smtp");
    for (const hostname of ["127.0.0.1", "::1"]) {
      const conn = await Deno.connect({ hostname, port });
      try {
        const buf = new Uint8Array(512);
        const n = await conn.read(buf);
        assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^220 /, hostname);
      } finally {
        conn.close();
      }
    }
  } finally {
    await ts.stop();
  }
});
