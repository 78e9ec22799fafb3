/**
 * JMAP API fuzz: random method calls with random arguments (known argument names, values
 * of every JSON type, result references with random paths) against a server holding mail.
 * Every call must end in its method's response or a method-level error of the RFC — never
 * serverFail (an exception), never an HTTP error — and the server keeps answering.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { startTestServer } from "./harness.ts";
import { basic, CORE, JmapClient, type Json, MAIL, sendWithSmtplib } from "./lib/jmap_client.ts";

const METHODS = [
  "Core/echo",
  "Mailbox/get",
  "Mailbox/changes",
  "Mailbox/query",
  "Mailbox/queryChanges",
  "Thread/get",
  "Thread/changes",
  "Email/get",
  "Email/changes",
  "Email/query",
  "Email/queryChanges",
  "Email/set",
  "Email/import",
  "Email/copy",
  "Email/parse",
  "Mailbox/set",
  "Blob/copy",
  "Nope/nope",
];

const GET = ["ids", "properties"];
const CHANGES = ["sinceState", "maxChanges"];
const QUERY = ["filter", "sort", "position", "anchor", "anchorOffset", "limit", "calculateTotal"];
const QUERY_CHANGES = ["filter", "sort", "sinceQueryState", "maxChanges", "calculateTotal"];
/** Each method's arguments (besides accountId), and now and then one it does not know. */
const ARGS: Record<string, string[]> = {
  "Core/echo": ["x", "y"],
  "Mailbox/get": GET,
  "Mailbox/changes": CHANGES,
  "Mailbox/query": [...QUERY, "sortAsTree", "filterAsTree"],
  "Mailbox/queryChanges": QUERY_CHANGES,
  "Thread/get": GET,
  "Thread/changes": CHANGES,
  "Email/get": [...GET, "bodyProperties", "fetchAllBodyValues", "maxBodyValueBytes"],
  "Email/changes": CHANGES,
  "Email/query": [...QUERY, "collapseThreads"],
  "Email/queryChanges": QUERY_CHANGES,
  "Email/set": ["ifInState", "create", "update", "destroy"],
  "Email/import": ["ifInState", "emails"],
  "Email/copy": ["fromAccountId", "create", "ifInState"],
  "Email/parse": ["blobIds", "properties"],
  "Mailbox/set": ["ifInState", "create", "update", "destroy", "onDestroyRemoveEmails"],
  "Blob/copy": ["fromAccountId", "blobIds"],
  "Nope/nope": ["x"],
};

/** Errors a method may answer with (RFC 8620 §3.6.2, §5); serverFail is not among them. */
/** `usual` nine times in ten, else a value of `odd`. */
function rarely<T, U>(odd: fc.Arbitrary<T>, usual: U): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: 9, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: odd });
}

const EXPECTED_ERRORS = new Set([
  "unknownMethod",
  "invalidArguments",
  "invalidResultReference",
  "accountNotFound",
  "requestTooLarge",
  "cannotCalculateChanges",
  "anchorNotFound",
  "unsupportedSort",
  "unsupportedFilter",
  "stateMismatch",
  "fromAccountNotFound",
]);

Deno.test("jmap fuzz: random calls end in a response or an RFC error, never serverFail", async () => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    const alice = await ts.addUser("alice@example.test", "alice-password");
    await sendWithSmtplib(
      ts.port("smtp"),
      "x@remote.test",
      "alice@example.test",
      "Subject: hi\r\nFrom: x@remote.test\r\n\r\nhello\r\n",
    );
    const own = `a${alice.id}`;
    const jmap = new JmapClient(
      `http://127.0.0.1:${ts.port("http")}`,
      basic("alice@example.test", "alice-password"),
    );
    // Real ids, so that lookups find things as well as miss them.
    const [[, boxes], [, found]] = await jmap.api([
      ["Mailbox/get", { accountId: own, properties: ["id"] }, "0"],
      ["Email/query", { accountId: own }, "1"],
    ]);
    const someId = fc.constantFrom(
      ...boxes.list.map((m: Json) => m.id),
      ...found.ids,
      ...found.ids.map((id: string) => `t${id.slice(1)}`),
      "m999",
      "e999",
      "x",
      "__proto__",
    );
    const garbage = fc.jsonValue({ maxDepth: 3 });
    const condition = fc.dictionary(
      fc.constantFrom(
        "inMailbox",
        "inMailboxOtherThan",
        "text",
        "from",
        "subject",
        "hasKeyword",
        "minSize",
        "before",
        "role",
        "name",
        "hasAnyRole",
        "parentId",
      ),
      fc.oneof(
        someId,
        fc.array(someId, { maxLength: 2 }),
        fc.constantFrom("hello", "$seen", 0, true, null),
      ),
      { maxKeys: 2 },
    );
    const filter = fc.oneof(
      condition,
      fc.record({
        operator: fc.constantFrom("AND", "OR", "NOT", "XOR"),
        conditions: fc.array(condition, { maxLength: 3 }),
      }),
    );
    const typed: Record<string, fc.Arbitrary<unknown>> = {
      ids: fc.oneof(fc.array(someId, { maxLength: 4 }), fc.constant(null)),
      properties: fc.array(
        fc.constantFrom(
          "id",
          "name",
          "role",
          "emailIds",
          "subject",
          "from",
          "preview",
          "bodyStructure",
          "textBody",
          "bodyValues",
          "header:Subject:asText",
          "header:From:asAddresses",
          "nope",
        ),
        { maxLength: 4 },
      ),
      bodyProperties: fc.array(fc.constantFrom("partId", "type", "size", "headers", "nope"), {
        maxLength: 3,
      }),
      filter,
      sort: fc.array(
        fc.record({
          property: fc.constantFrom("receivedAt", "size", "name", "sortOrder", "subject"),
          isAscending: fc.boolean(),
        }),
        { maxLength: 2 },
      ),
      anchor: someId,
      sinceState: fc.string({ maxLength: 20 }),
      // Writes: patches and creations with real and odd ids, keys and values.
      update: fc.dictionary(
        someId,
        fc.dictionary(
          fc.constantFrom(
            "keywords",
            "keywords/$seen",
            "keywords/a(b",
            `mailboxIds/${boxes.list[0].id}`,
            "mailboxIds",
            "name",
            "parentId",
            "isSubscribed",
            "role",
          ),
          fc.oneof(fc.constant(true), fc.constant(null), someId, garbage),
          { maxKeys: 2 },
        ),
        { maxKeys: 2 },
      ),
      create: fc.dictionary(
        fc.constantFrom("k1", "k2"),
        fc.dictionary(
          fc.constantFrom(
            "mailboxIds",
            "name",
            "parentId",
            "role",
            "subject",
            "from",
            "textBody",
            "bodyStructure",
            "bodyValues",
            "id",
            "blobId",
          ),
          fc.oneof(someId, garbage, fc.constant({ [boxes.list[0].id]: true })),
          { maxKeys: 3 },
        ),
        { maxKeys: 2 },
      ),
      destroy: fc.array(someId, { maxLength: 2 }),
      blobIds: fc.array(fc.oneof(someId, fc.constantFrom("u1", "b1", "p1_1")), { maxLength: 2 }),
      sinceQueryState: fc.string({ maxLength: 20 }),
    };
    const scalar = fc.oneof(fc.integer({ min: -5, max: 50 }), fc.boolean());
    const valueFor = (arg: string) =>
      fc.oneof(
        { weight: 9, arbitrary: typed[arg] ?? scalar },
        { weight: 1, arbitrary: garbage },
      );
    const call = (i: number) =>
      fc.constantFrom(...METHODS).chain((m) =>
        fc.tuple(
          fc.constant(m),
          fc.tuple(
            fc.uniqueArray(fc.constantFrom(...ARGS[m]), { maxLength: 3 }),
            rarely(fc.constant(["bogus"]), []),
          ).map(([keys, extra]) => [...keys, ...extra]).chain((keys) =>
            fc.tuple(...keys.map((k) => valueFor(k))).map((vs) =>
              Object.fromEntries(keys.map((k, j) => [k, vs[j]]))
            )
          ),
          rarely(fc.constantFrom("a999", 7, null), own),
          rarely(
            fc.record({
              resultOf: fc.constantFrom("c0", "c1", "c2"),
              name: fc.constantFrom(...METHODS),
              path: fc.constantFrom("/ids", "/list/*/id", "/*", "", "/list/0", "x", "/a/b/c"),
            }),
            undefined,
          ),
        )
      ).map(([name, args, accountId, ref]) => {
        const a = args as Json;
        // Mostly the caller's own account, so that the methods themselves run.
        a.accountId = accountId;
        if (ref && !("ids" in a)) a["#ids"] = ref;
        return [name, a, `c${i}`];
      });
    const requests = fc.sample(fc.tuple(call(0), call(1), call(2)), { numRuns: 300, seed: 8620 });
    for (const calls of requests) {
      const { status, json } = await jmap.post(
        JSON.stringify({ using: [CORE, MAIL], methodCalls: calls }),
      );
      assert.equal(status, 200, JSON.stringify(calls));
      for (const [name, args, id] of json.methodResponses) {
        assert.equal(typeof id, "string");
        if (name === "error") {
          assert.ok(EXPECTED_ERRORS.has(args.type), `${args.type} for ${JSON.stringify(calls)}`);
        }
      }
    }
    const [[name]] = await jmap.api([["Mailbox/get", { accountId: own }, "0"]]);
    assert.equal(name, "Mailbox/get");
  } finally {
    await ts.stop();
  }
});
