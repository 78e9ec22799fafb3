/** The operator endpoints on the HTTP listener, fetched with curl. */
import assert from "node:assert/strict";
import { run, startTestServer } from "./harness.ts";

Deno.test("http: /healthz and /metrics for operators", async () => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    await ts.addUser("dave@example.test", "dave-password");
    const base = `http://127.0.0.1:${ts.port("http")}`;
    const health = await run("curl", ["-s", "-w", "\n%{http_code}", `${base}/healthz`]);
    assert.deepEqual(health.stdout.split("\n"), ['{"status":"ok"}', "200"]);

    // One SMTP connection held open shows up in the connection gauge.
    const smtp = await Deno.connect({ hostname: "127.0.0.1", port: ts.port("smtp") });
    await smtp.read(new Uint8Array(512)); // the greeting: the session is running
    const m = await run("curl", ["-s", `${base}/metrics`]);
    assert.match(m.stdout, /^denomail_up 1$/m);
    assert.match(m.stdout, /^denomail_connections\{listener="smtp"\} 1$/m);
    assert.match(m.stdout, /^denomail_accounts 1$/m);
    assert.match(m.stdout, /^denomail_queue_entries 0$/m);
    smtp.close();

    const missing = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `${base}/nope`,
    ]);
    assert.equal(missing.stdout, "404");
    const post = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-X",
      "POST",
      `${base}/healthz`,
    ]);
    assert.equal(post.stdout, "405");
  } finally {
    await ts.stop();
  }
});
