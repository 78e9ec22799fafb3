/**
 * Mail-program auto-setup, read the way the programs read it: Thunderbird's autoconfig
 * XML (incomingServer/outgoingServer by type), Outlook's autodiscover (POX request and
 * response, and the JSON v2 lookup), Apple's .mobileconfig (a plist, parsed by
 * python3's plistlib). Addresses from the query are validated and escaped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { python, run, startTestServer, type TestServer } from "./harness.ts";

const TB_PARSE = `
import sys, json, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "clientConfig", root.tag
p = root.find("emailProvider")
out = {"id": p.get("id"), "domain": p.findtext("domain"), "servers": []}
for tag in ("incomingServer", "outgoingServer"):
    for s in p.findall(tag):
        out["servers"].append({k: s.findtext(k) for k in ("hostname", "port", "socketType", "username", "authentication")} | {"type": s.get("type"), "tag": tag})
print(json.dumps(out))
`;

const OUTLOOK_PARSE = `
import sys, json, xml.etree.ElementTree as ET
ns = {"r": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
      "o": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
root = ET.parse(sys.argv[1]).getroot()
err = root.find("r:Response/r:Error/r:ErrorCode", ns)
if err is not None:
    print(json.dumps({"error": err.text})); sys.exit()
acct = root.find("o:Response/o:Account", ns)
print(json.dumps({"action": acct.findtext("o:Action", namespaces=ns), "protocols": [
  {c.tag.split("}")[1]: c.text for c in p} for p in acct.findall("o:Protocol", ns)]}))
`;

const PLIST_PARSE = `
import sys, json, plistlib
with open(sys.argv[1], "rb") as f: p = plistlib.load(f)
print(json.dumps(p))
`;

async function parseWith(ts: TestServer, script: string, body: string): Promise<unknown> {
  const file = join(ts.dir, `doc-${crypto.randomUUID()}.xml`);
  await Deno.writeTextFile(file, body);
  return JSON.parse((await python(script, [file])).stdout);
}

async function withServer(fn: (ts: TestServer, base: string) => Promise<void>) {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    await fn(ts, `http://127.0.0.1:${ts.port("http")}`);
  } finally {
    await ts.stop();
  }
}

Deno.test("autoconfig: Thunderbird finds IMAP, POP3 and SMTP with the hostname and production ports", async () => {
  await withServer(async (ts, base) => {
    for (const path of ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"]) {
      const res = await fetch(`${base}${path}?emailaddress=alice%40example.test`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /xml/);
      const doc = await parseWith(ts, TB_PARSE, await res.text()) as {
        domain: string;
        servers: Array<Record<string, string>>;
      };
      assert.equal(doc.domain, "example.test");
      const find = (type: string, port: string) =>
        doc.servers.find((s) => s.type === type && s.port === port);
      for (
        const [type, port, socket] of [
          ["imap", "993", "SSL"],
          ["pop3", "995", "SSL"],
          ["smtp", "465", "SSL"],
          ["smtp", "587", "STARTTLS"],
        ]
      ) {
        const s = find(type, port);
        assert.ok(s, `${type} ${port} in ${JSON.stringify(doc)}`);
        assert.equal(s.hostname, "mail.example.test");
        assert.equal(s.socketType, socket);
        assert.equal(s.username, "%EMAILADDRESS%");
        assert.equal(s.tag, type === "smtp" ? "outgoingServer" : "incomingServer");
      }
    }
    // The well-known form without an address: the domain comes from autoconfig.<domain>.
    const byHost = await run("curl", [
      "-sS",
      "-H",
      "Host: autoconfig.example.test",
      `${base}/.well-known/autoconfig/mail/config-v1.1.xml`,
    ]);
    assert.match(byHost.stdout, /<domain>example\.test<\/domain>/);
    // Unknown domains and malformed (injecting) addresses get nothing.
    for (const q of ["bob%40other.test", "x%22%2F%3E%3Cevil%2F%3E%40example.test", "nope"]) {
      const r = await fetch(`${base}/mail/config-v1.1.xml?emailaddress=${q}`);
      await r.body?.cancel();
      assert.equal(r.status, 404, q);
    }
  });
});

Deno.test("autodiscover: Outlook's POX request gets IMAP/POP3/SMTP settings; JSON v2 points at it", async () => {
  await withServer(async (ts, base) => {
    const ask = (addr: string, path = "/autodiscover/autodiscover.xml") =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "text/xml" },
        body: `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${addr}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`,
      });
    for (const path of ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"]) {
      const res = await ask("alice@example.test", path);
      assert.equal(res.status, 200);
      const doc = await parseWith(ts, OUTLOOK_PARSE, await res.text()) as {
        action: string;
        protocols: Array<Record<string, string>>;
      };
      assert.equal(doc.action, "settings");
      const byType = new Map(doc.protocols.map((p) => [p.Type, p]));
      assert.deepEqual([...byType.keys()].sort(), ["IMAP", "POP3", "SMTP"]);
      for (const [type, port] of [["IMAP", "993"], ["POP3", "995"], ["SMTP", "465"]]) {
        const p = byType.get(type)!;
        assert.equal(p.Server, "mail.example.test");
        assert.equal(p.Port, port);
        assert.equal(p.SSL, "on");
        assert.equal(p.LoginName, "alice@example.test");
        assert.equal(p.AuthRequired, "on");
      }
    }
    const bad = await ask("<x>@example.test");
    assert.deepEqual(await parseWith(ts, OUTLOOK_PARSE, await bad.text()), { error: "600" });

    const json = async (path: string) => {
      const r = await fetch(`${base}${path}`);
      return { status: r.status, body: await r.json() };
    };
    const v1 = await json(
      "/autodiscover/autodiscover.json?Email=alice%40example.test&Protocol=AutodiscoverV1",
    );
    assert.deepEqual(v1, {
      status: 200,
      body: {
        Protocol: "AutodiscoverV1",
        Url: "https://mail.example.test/autodiscover/autodiscover.xml",
      },
    });
    const v1Path = await json(
      "/autodiscover/autodiscover.json/v1.0/alice@example.test?Protocol=AutodiscoverV1",
    );
    assert.equal(v1Path.body.Url, v1.body.Url);
    const activeSync = await json(
      "/autodiscover/autodiscover.json/v1.0/alice@example.test?Protocol=ActiveSync",
    );
    assert.equal(activeSync.status, 400);
    assert.equal(activeSync.body.ErrorCode, "InvalidProtocol");
  });
});

Deno.test("mobileconfig: a plist with the account, no password, values escaped", async () => {
  await withServer(async (ts, base) => {
    const addr = "o'neil&co@example.test";
    const res = await fetch(
      `${base}/apple/mail.mobileconfig?emailaddress=${encodeURIComponent(addr)}`,
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-apple-aspen-config");
    const text = await res.text();
    assert.doesNotMatch(text, /Password<\/key>\s*<string>/, "no password inside");
    const p = await parseWith(ts, PLIST_PARSE, text) as Record<string, unknown>;
    assert.equal(p.PayloadType, "Configuration");
    const [mail] = p.PayloadContent as Array<Record<string, unknown>>;
    assert.equal(mail.PayloadType, "com.apple.mail.managed");
    assert.equal(mail.EmailAddress, addr);
    assert.equal(mail.EmailAccountType, "EmailTypeIMAP");
    assert.equal(mail.IncomingMailServerHostName, "mail.example.test");
    assert.equal(mail.IncomingMailServerPortNumber, 993);
    assert.equal(mail.IncomingMailServerUseSSL, true);
    assert.equal(mail.IncomingMailServerUsername, addr);
    assert.equal(mail.OutgoingMailServerHostName, "mail.example.test");
    assert.equal(mail.OutgoingMailServerPortNumber, 465);
    assert.equal(mail.OutgoingPasswordSameAsIncomingPassword, true);
    // The same address gets the same UUIDs: installing again replaces the profile.
    const again = await (await fetch(
      `${base}/apple/mail.mobileconfig?emailaddress=${encodeURIComponent(addr)}`,
    )).text();
    assert.equal(again, text);
    for (
      const q of [
        "",
        "?emailaddress=someone%40other.test",
        "?emailaddress=%3Cscript%3E%40example.test",
      ]
    ) {
      const r = await fetch(`${base}/apple/mail.mobileconfig${q}`);
      await r.body?.cancel();
      assert.equal(r.status, 404, q);
    }
  });
});
