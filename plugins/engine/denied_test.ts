import assert from "node:assert/strict";
import { explainDenied } from "./denied.ts";

Deno.test("denied: a Deno permission refusal names the plugin's permissions key", () => {
  assert.equal(
    explainDenied(
      "geo",
      'hook threw: NotCapable: Requires read access to "/etc/hosts", run again with the --allow-read flag',
    ),
    'hook threw: NotCapable: plugin "geo" was refused read access to /etc/hosts; to allow it ' +
      'add permissions.read = ["/etc/hosts"] to its [[plugins]] entry',
  );
  assert.match(
    explainDenied(
      "x",
      'Requires net access to "example.com:443", run again with the --allow-net flag',
    ),
    /permissions\.net = \["example\.com:443"\]/,
  );
  assert.match(
    explainDenied("group g", 'Requires env access to "HOME", run again with the --allow-env flag'),
    /^group "g" was refused env access to HOME; to allow it add permissions\.env = \["HOME"\]/,
  );
  assert.equal(explainDenied("x", "TypeError: boom"), "TypeError: boom");
});
