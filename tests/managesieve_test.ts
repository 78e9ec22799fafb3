/**
 * ManageSieve (RFC 5804) over real TCP with a raw python client that follows the RFC's
 * examples: capabilities, AUTHENTICATE PLAIN, PUTSCRIPT (good, and bad with line:column),
 * literals {n+}, LISTSCRIPTS, SETACTIVE, GETSCRIPT, DELETESCRIPT of the active script refused
 * (ACTIVE), RENAMESCRIPT, HAVESPACE; then mail sent with smtplib is filed by the active script
 * (fileinto), read back with imaplib. Before login, a large literal is refused unread.
 * Debian's sieve-connect (STARTTLS, then SASL) uploads, activates, downloads and is refused.
 */
import assert from "node:assert/strict";
import { python, run, startTestServer } from "./harness.ts";

const CLIENT = String.raw`
import base64, imaplib, smtplib, socket, sys, time
sieve_port, smtp_port, imap_port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", sieve_port), timeout=10)
f = s.makefile("rb")

def response():
    lines = []
    while True:
        line = f.readline().decode()
        assert line, "connection closed"
        if line.endswith("}\r\n") and "{" in line:
            n = int(line[line.rindex("{") + 1:-3])
            line += f.read(n).decode() + f.readline().decode()
        lines.append(line)
        if line.startswith(("OK", "NO", "BYE")):
            return "".join(lines), line

def cmd(text):
    s.sendall(text.encode() + b"\r\n")
    return response()

def lit(text):
    return "{%d+}\r\n%s" % (len(text.encode()), text)

greeting, last = response()
assert '"IMPLEMENTATION" "denomail"' in greeting, greeting
assert '"SASL" "PLAIN SCRAM-SHA-256"' in greeting, greeting
assert '"STARTTLS"' in greeting and '"VERSION" "1.0"' in greeting, greeting
assert '"UNAUTHENTICATE"\r\n' in greeting and '"MAXREDIRECTS" "4"' in greeting, greeting
sieve_caps = greeting.split('"SIEVE" "')[1].split('"')[0].split()
for ext in ["regex", "date", "index", "editheader", "include", "virustest", "vacation"]:
    assert ext in sieve_caps, (ext, sieve_caps)
assert "fileinto" in greeting.split('"SIEVE"')[1].splitlines()[0], greeting
assert last.startswith("OK"), last

_, last = cmd("LISTSCRIPTS")
assert last.startswith("NO"), last  # not before login
_, last = cmd('PUTSCRIPT "x" {20000+}\r\n' + "k" * 20000)
assert last.startswith("NO (QUOTA/MAXSIZE)"), last  # skipped, not stored

# RFC 5804 §2.1 example: AUTHENTICATE "PLAIN" with an initial response.
bad = base64.b64encode(b"\0bob@example.test\0wrong").decode()
_, last = cmd('AUTHENTICATE "PLAIN" "%s"' % bad)
assert last.startswith("NO"), last
good = base64.b64encode(b"\0bob@example.test\0bob-pw-12345").decode()
_, last = cmd('AUTHENTICATE "PLAIN" {%d+}\r\n%s' % (len(good), good))
assert last.startswith("OK"), last

script = 'require ["fileinto", "mailbox"];\r\nif header :contains "subject" "sieve" {\r\n  fileinto :create "Filtered";\r\n}\r\n'
_, last = cmd('HAVESPACE "filter" %d' % len(script))
assert last.startswith("OK"), last
_, last = cmd('HAVESPACE "filter" 999999999')
assert last.startswith("NO (QUOTA/MAXSIZE)"), last
_, last = cmd('PUTSCRIPT "filter" ' + lit(script))
assert last.startswith("OK"), last
_, last = cmd('PUTSCRIPT "broken" ' + lit('require ["fileinto"];\r\nif true {\r\n  fileinto "x"\r\n}\r\n'))
assert last.startswith("NO") and "line 4:1" in last, last
_, last = cmd('CHECKSCRIPT ' + lit('keep;'))
assert last.startswith("OK"), last
# The newer extensions are accepted by CHECKSCRIPT and PUTSCRIPT; a bad regex names its line.
ext = ('require ["regex", "date", "index", "editheader", "include", "variables", "relational"];\r\n'
       'if header :regex "subject" "^re: (.*)$" { addheader "X-Was" "${1}"; }\r\n'
       'if date :index 1 :zone "+0000" :value "ge" "date" "year" "2000" { include :optional "extra"; }\r\n')
_, last = cmd('CHECKSCRIPT ' + lit(ext))
assert last.startswith("OK"), last
_, last = cmd('PUTSCRIPT "modern" ' + lit(ext))
assert last.startswith("OK"), last
_, last = cmd('CHECKSCRIPT ' + lit('require "regex";\r\nif header :regex "a" "(b" { keep; }'))
assert last.startswith("NO") and "line 2:4" in last and "regex" in last, last
_, last = cmd('DELETESCRIPT "modern"')
assert last.startswith("OK"), last
_, last = cmd('PUTSCRIPT "spare" "keep;"')
assert last.startswith("OK"), last
_, last = cmd('SETACTIVE "nope"')
assert last.startswith("NO (NONEXISTENT)"), last
_, last = cmd('SETACTIVE "filter"')
assert last.startswith("OK"), last
listing, last = cmd("LISTSCRIPTS")
assert listing == '"filter" ACTIVE\r\n"spare"\r\nOK\r\n', listing
got, last = cmd('GETSCRIPT "filter"')
assert got == "{%d}\r\n%s\r\nOK\r\n" % (len(script), script), got
_, last = cmd('DELETESCRIPT "filter"')
assert last.startswith("NO (ACTIVE)"), last
_, last = cmd('RENAMESCRIPT "spare" "filter"')
assert last.startswith("NO (ALREADYEXISTS)"), last
_, last = cmd('RENAMESCRIPT "spare" "extra"')
assert last.startswith("OK"), last
_, last = cmd('DELETESCRIPT "extra"')
assert last.startswith("OK"), last
listing, _ = cmd("LISTSCRIPTS")
assert listing == '"filter" ACTIVE\r\nOK\r\n', listing
_, last = cmd('NOOP "t1"')
assert last.startswith('OK (TAG "t1")'), last
# RFC 5804 §2.14.1: UNAUTHENTICATE, then commands need a login again, and a login works.
_, last = cmd("UNAUTHENTICATE")
assert last.startswith("OK"), last
_, last = cmd("LISTSCRIPTS")
assert last.startswith("NO"), last
_, last = cmd('AUTHENTICATE "PLAIN" "%s"' % good)
assert last.startswith("OK"), last
listing, _ = cmd("LISTSCRIPTS")
assert listing == '"filter" ACTIVE\r\nOK\r\n', listing
_, last = cmd("LOGOUT")
assert last.startswith("OK"), last

m = smtplib.SMTP("127.0.0.1", smtp_port, timeout=10)
m.sendmail("carol@else.test", ["bob@example.test"],
    b"From: carol@else.test\r\nTo: bob@example.test\r\nSubject: about sieve\r\n\r\nfiled\r\n")
m.sendmail("carol@else.test", ["bob@example.test"],
    b"From: carol@else.test\r\nTo: bob@example.test\r\nSubject: other\r\n\r\nkept\r\n")
m.quit()

i = imaplib.IMAP4("127.0.0.1", imap_port)
i.login("bob@example.test", "bob-pw-12345")
typ, data = i.select("Filtered", readonly=True)
assert typ == "OK" and data[0] == b"1", (typ, data)
typ, data = i.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert b"about sieve" in data[0][1], data
typ, data = i.select("INBOX", readonly=True)
assert data[0] == b"1", data
i.logout()
# SCRAM-SHA-256 (RFC 5804 §2.1): challenges and responses are strings; the server's final
# message is a last challenge, answered with an empty string.
import hashlib, hmac, os
b64 = lambda b: base64.b64encode(b).decode()
s = socket.create_connection(("127.0.0.1", sieve_port), timeout=10)
f = s.makefile("rb")
response()
cnonce = b64(os.urandom(18))
first_bare = "n=bob@example.test,r=" + cnonce
s.sendall(('AUTHENTICATE "SCRAM-SHA-256" "%s"\r\n' % b64(("n,," + first_bare).encode())).encode())
server_first = base64.b64decode(f.readline().decode().strip().strip('"')).decode()
attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
salted = hashlib.pbkdf2_hmac("sha256", b"bob-pw-12345", base64.b64decode(attrs["s"]), int(attrs["i"]))
client_key = hmac.new(salted, b"Client Key", "sha256").digest()
final_bare = "c=biws,r=" + attrs["r"]
auth_msg = ",".join([first_bare, server_first, final_bare]).encode()
sig = hmac.new(hashlib.sha256(client_key).digest(), auth_msg, "sha256").digest()
proof = bytes(a ^ b for a, b in zip(client_key, sig))
s.sendall(('"%s"\r\n' % b64((final_bare + ",p=" + b64(proof)).encode())).encode())
server_final = base64.b64decode(f.readline().decode().strip().strip('"')).decode()
server_key = hmac.new(salted, b"Server Key", "sha256").digest()
assert server_final == "v=" + b64(hmac.new(server_key, auth_msg, "sha256").digest()), server_final
_, last = cmd('""')
assert last.startswith("OK"), last
listing, _ = cmd("LISTSCRIPTS")
assert listing == '"filter" ACTIVE\r\nOK\r\n', listing
s.close()

# Before login, a literal far over the bound ends the session unread.
s = socket.create_connection(("127.0.0.1", sieve_port), timeout=10)
f = s.makefile("rb")
response()
_, last = cmd('PUTSCRIPT "x" {9000000+}')
assert last.startswith("BYE (QUOTA/MAXSIZE)"), last
assert f.readline() == b""
print("ok")
`;

Deno.test("managesieve: a raw RFC 5804 client manages scripts; delivery runs the active one", async () => {
  const ts = await startTestServer({
    plugins: [{ name: "sieve", module: "builtin:sieve" }],
  });
  try {
    await ts.addUser("bob@example.test", "bob-pw-12345");
    const out = await python(CLIENT, [
      String(ts.port("managesieve")),
      String(ts.port("smtp")),
      String(ts.port("imap")),
    ]);
    assert.match(out.stdout, /ok/);
  } finally {
    await ts.stop();
  }
});

Deno.test("managesieve: no SASL in the clear off loopback rules; STARTTLS sends capabilities again", async () => {
  const ts = await startTestServer({ auth: { allow_plaintext_loopback: false } });
  try {
    const out = await python(
      String.raw`
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def upto_ok(f):
    out = ""
    while True:
        line = f.readline().decode()
        out += line
        if line.startswith(("OK", "NO", "BYE")):
            return out
g = upto_ok(f)
assert '"SASL" ""' in g, g
s.sendall(b'AUTHENTICATE "PLAIN" "AGJvYgB4"\r\n')
r = upto_ok(f)
assert r.startswith("NO (ENCRYPT-NEEDED)"), r
s.sendall(b"STARTTLS\r\n")
assert upto_ok(f).startswith("OK")
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="mail.example.test")
tf = t.makefile("rb")
caps = upto_ok(tf)
assert '"SASL" "PLAIN SCRAM-SHA-256"' in caps and '"STARTTLS"' not in caps, caps
print("ok")
`,
      [String(ts.port("managesieve"))],
    );
    assert.match(out.stdout, /ok/);
  } finally {
    await ts.stop();
  }
});

Deno.test("managesieve: sieve-connect over STARTTLS uploads, activates, downloads; errors name the line", async () => {
  const ts = await startTestServer({ plugins: [{ name: "sieve", module: "builtin:sieve" }] });
  const dir = await Deno.makeTempDir({ prefix: "denomail-sieve-connect-" });
  try {
    await ts.addUser("bob@example.test", "bob-pw-12345");
    const script = 'require "fileinto";\nfileinto "Lists";\n';
    await Deno.writeTextFile(`${dir}/f.sieve`, script);
    await Deno.writeTextFile(`${dir}/bad.sieve`, 'if true {\n  fileinto "x"\n}\n');
    const sc = (...args: string[]) =>
      run("sieve-connect", [
        ...["--server", "127.0.0.1", "--port", String(ts.port("managesieve"))],
        ...["--user", "bob@example.test", "--passwordfd", "0", "--notlsverify", ...args],
      ], { stdin: "bob-pw-12345\n", check: false, cwd: dir });
    const up = await sc("--upload", "--localsieve", "f.sieve", "--remotesieve", "main");
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await sc("--activate", "--remotesieve", "main")).code, 0);
    assert.match((await sc("--list")).stdout, /"main" ACTIVE/);
    const down = await sc("--download", "--remotesieve", "main", "--localsieve", "dl.sieve");
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await Deno.readTextFile(`${dir}/dl.sieve`), script);
    const del = await sc("--delete", "--remotesieve", "main");
    assert.notEqual(del.code, 0);
    assert.match(del.stdout + del.stderr, /NO \(ACTIVE\)/);
    const bad = await sc("--upload", "--localsieve", "bad.sieve", "--remotesieve", "bad");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, /line 3:1: expected ";"/);
  } finally {
    await ts.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
