/**
 * What a user's mail looks like over IMAP (python imaplib): every mailbox, every UID with its
 * flags and the SHA-256 of its exact bytes (BODY.PEEK[]). Used to compare two servers (a
 * store and its restored backup; an old data dir and its upgrade) message by message.
 *
 * @module
 */
import { python } from "../harness.ts";

/** mailbox -> uid -> "flags sorted (without \\Recent)|sha256". */
export type MailDump = Record<string, Record<string, string>>;

const SCRIPT = `
import imaplib, json, sys, hashlib, re
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, password)
out = {}
typ, boxes = m.list()
for line in boxes:
    mt = re.match(rb'\\((.*?)\\) "(.*?)" (.*)', line)
    if b"\\noselect" in mt.group(1).lower() or b"\\nonexistent" in mt.group(1).lower():
        continue
    name = mt.group(3).decode()
    if name.startswith('"'):
        name = json.loads(name)
    typ, _ = m.select('"%s"' % name, readonly=True)
    got = {}
    typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta = item[0].decode()
        uid = re.search(r"UID (\\d+)", meta).group(1)
        flags = sorted(f for f in re.search(r"FLAGS \\((.*?)\\)", meta).group(1).split()
                       if f != "\\\\Recent")  # per session (RFC 3501), not stored state
        got[uid] = " ".join(flags) + "|" + hashlib.sha256(item[1]).hexdigest()
    out[name] = got
m.logout()
print(json.dumps(out))
`;

export async function dumpMail(port: number, user: string, password: string): Promise<MailDump> {
  const r = await python(SCRIPT, [String(port), user, password]);
  return JSON.parse(r.stdout) as MailDump;
}
