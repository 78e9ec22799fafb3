/**
 * `denomail sieve check` and `sieve test` as a user runs them: exit codes, line:column
 * errors, and the actions printed — include from scripts next to FILE, regex match
 * variables, date parts, editheader's added fields.
 */
import assert from "node:assert/strict";
import { cli } from "./lib/server_process.ts";

Deno.test("sieve CLI: check and test with include, regex, date and editheader", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sieve-cli-" });
  try {
    await Deno.writeTextFile(
      `${dir}/main.sieve`,
      'require ["fileinto", "mailbox", "regex", "variables", "date", "relational", "editheader", "include"];\n' +
        'include :optional "lists";\ninclude :optional "absent";\n' +
        'if header :regex "subject" "^\\\\[([a-z]+)\\\\]" { fileinto :create "Projects/${1}"; }\n' +
        'if date :value "ge" :originalzone "date" "hour" "22" { addheader "X-Late" "yes"; }\n',
    );
    await Deno.writeTextFile(`${dir}/lists.sieve`, 'require "fileinto";\nfileinto "Lists";\n');
    await Deno.writeTextFile(
      `${dir}/bad.sieve`,
      'require "regex";\nif header :regex "s" "a{9,1}" {}\n',
    );
    await Deno.writeTextFile(
      `${dir}/m.eml`,
      "From: a@bank.example\r\nTo: me@x.test\r\nDate: Fri, 13 Feb 2009 23:31:30 +0100\r\nSubject: [ops] hi\r\n\r\nx\r\n",
    );
    const ok = await cli(["sieve", "check", `${dir}/main.sieve`]);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await cli(["sieve", "check", `${dir}/bad.sieve`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /line 2:4: regex: repetition \{m,n\} with n < m/);
    const t = await cli(["sieve", "test", `${dir}/main.sieve`, "--eml", `${dir}/m.eml`]);
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual(t.stdout.trim().split("\n"), [
      "fileinto Lists",
      "fileinto Projects/ops create",
      "addheader X-Late: yes",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
