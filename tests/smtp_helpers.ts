/**
 * Helpers for the SMTP end-to-end tests: a scripted python3 smtplib client (one process per
 * conversation; every reply comes back as [code, text]) and reading delivered mail back
 * through the Store.
 *
 * @module
 */
import { python } from "./harness.ts";
import type { TestServer } from "./harness.ts";

/**
 * A step of a scripted conversation:
 * - ["cmd", line]                   docmd: one command, one reply
 * - ["raw", text] / ["rawb64", b64] send bytes as they are; no reply read
 * - ["reply"]                       read one reply
 * - ["ehlo", name?] / ["helo", name?]
 * - ["starttls"]                    smtplib starttls() trusting the test certificate
 * - ["login", user, password]       smtplib login() (picks AUTH PLAIN)
 * - ["auth", mech, user, password]  smtplib auth() with PLAIN or LOGIN (initial response)
 * - ["scram", user, password]       a full SCRAM-SHA-256 exchange (RFC 5802); the reply text
 *                                   ends with " verified" when the server signature checked
 * - ["data", message]               smtplib data(): 354, dot-stuffing, the final reply
 * - ["bdat", text, last]            "BDAT n [LAST]" + the chunk in one write, then the reply
 * - ["sendmail", from, [to], message, [mail opts], [rcpt opts]]
 */
export type Step = [string, ...unknown[]];

/** One reply: code (-1 when the server closed the connection) and text. */
export type SmtpReply = [number, string];

const DIALOG_PY = String.raw`
import base64, hashlib, hmac, json, os, smtplib, socket, ssl, sys
spec = json.loads(sys.argv[1])
ctx = ssl.create_default_context(cafile=spec.get("ca")) if spec.get("ca") else None
if spec.get("implicit"):
    s = smtplib.SMTP_SSL(context=ctx, timeout=spec.get("timeout", 20))
else:
    s = smtplib.SMTP(timeout=spec.get("timeout", 20))
s.command_encoding = "utf-8"
s._host = "127.0.0.1"  # for TLS hostname checks (the certificate names 127.0.0.1)
out = []
def rec(r):
    code, msg = r
    out.append([code, msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)])
def scram(user, pw):
    b64 = lambda b: base64.b64encode(b).decode()
    cnonce = b64(os.urandom(18))
    first_bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), cnonce)
    code, msg = s.docmd("AUTH", "SCRAM-SHA-256 " + b64(("n,," + first_bare).encode()))
    if code != 334:
        return code, msg
    server_first = base64.b64decode(msg).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", pw.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = "c=%s,r=%s" % (b64(b"n,,"), attrs["r"])
    auth_msg = ",".join([first_bare, server_first, final_bare]).encode()
    sig = hmac.new(stored_key, auth_msg, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    code, msg = s.docmd(b64((final_bare + ",p=" + b64(proof)).encode()))
    if code != 334:
        return code, msg
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    expected = "v=" + b64(hmac.new(server_key, auth_msg, "sha256").digest())
    verified = base64.b64decode(msg).decode() == expected
    code, msg = s.docmd("")
    return code, msg + (b" verified" if verified else b" NOT VERIFIED")
try:
    rec(s.connect("127.0.0.1", spec["port"]))
except Exception as e:
    out.append([-2, repr(e)])
    print(json.dumps(out)); sys.exit(0)
for step in spec["steps"]:
    op, args = step[0], step[1:]
    try:
        if op == "cmd": rec(s.docmd(args[0]))
        elif op == "raw": s.send(args[0].encode("utf-8"))
        elif op == "rawb64": s.send(base64.b64decode(args[0]))
        elif op == "reply": rec(s.getreply())
        elif op == "ehlo": rec(s.ehlo(args[0] if args else "client.test"))
        elif op == "helo": rec(s.helo(args[0] if args else "client.test"))
        elif op == "starttls": rec(s.starttls(context=ctx))
        elif op == "login": rec(s.login(args[0], args[1]))
        elif op == "auth":
            mech, user, pw = args
            if mech == "PLAIN":
                obj = lambda challenge=None: "\0%s\0%s" % (user, pw)
            else:
                obj = lambda challenge=None: user if challenge is None or challenge.startswith(b"User") else pw
            rec(s.auth(mech, obj, initial_response_ok=True))
        elif op == "scram": rec(scram(args[0], args[1]))
        elif op == "data": rec(s.data(args[0].encode("utf-8")))
        elif op == "bdat":
            body = args[0].encode("utf-8")
            s.send(("BDAT %d%s\r\n" % (len(body), " LAST" if args[1] else "")).encode() + body)
            rec(s.getreply())
        elif op == "sendmail":
            refused = s.sendmail(args[0], args[1], args[2].encode("utf-8"), args[3] if len(args) > 3 else [], args[4] if len(args) > 4 else [])
            out.append([250, json.dumps(refused)])
        else:
            raise Exception("unknown step " + op)
    except smtplib.SMTPServerDisconnected as e:
        out.append([-1, "disconnected"])
        break
    except smtplib.SMTPRecipientsRefused as e:
        code, msg = list(e.recipients.values())[0]
        out.append([code, msg.decode("utf-8", "replace")])
    except smtplib.SMTPResponseException as e:
        rec((e.smtp_code, e.smtp_error))
    except smtplib.SMTPNotSupportedError as e:
        out.append([-3, str(e)])
    except (socket.timeout, ConnectionError, ssl.SSLError) as e:
        out.append([-1, repr(e)])
        break
print(json.dumps(out))
`;

/** Runs a scripted conversation; returns every reply, starting with the greeting. */
export async function smtpDialog(
  port: number,
  steps: Step[],
  opts: { implicitTls?: boolean; ca?: string; timeout?: number } = {},
): Promise<SmtpReply[]> {
  const spec = {
    port,
    steps,
    implicit: opts.implicitTls ?? false,
    ca: opts.ca,
    timeout: opts.timeout,
  };
  const r = await python(DIALOG_PY, [JSON.stringify(spec)]);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** "250 2.1.5" style summaries of replies, for compact assertions. */
export function codes(replies: SmtpReply[]): string[] {
  return replies.map(([code, text]) => {
    const m = /^(\d\.\d{1,3}\.\d{1,3})\b/.exec(text);
    return m ? `${code} ${m[1]}` : String(code);
  });
}

/** The messages in a user's mailbox, as text, oldest first. */
export async function mailboxTexts(
  ts: TestServer,
  email: string,
  mailbox = "INBOX",
): Promise<string[]> {
  const account = await ts.store.getAccount(email);
  if (!account) throw new Error(`no account ${email}`);
  const mb = await ts.store.getMailbox(account.id, mailbox);
  if (!mb) throw new Error(`no mailbox ${mailbox} for ${email}`);
  const out: string[] = [];
  for (const m of await ts.store.listMessages(mb.id)) {
    out.push(new TextDecoder().decode(await ts.store.readBlob(m.blobId)));
  }
  return out;
}

/** A small RFC 5322 message. */
export function message(subject: string, body = "Hello.\r\n", extra = ""): string {
  return `From: sender@remote.test\r\nTo: someone@example.test\r\nSubject: ${subject}\r\n` +
    `${extra}\r\n${body}`;
}
