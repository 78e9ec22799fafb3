import assert from "node:assert/strict";
import { MethodError } from "./errors.ts";
import { evaluate, type Invocation, resolveReferences } from "./refs.ts";

const refError = (f: () => unknown, type = "invalidResultReference") =>
  assert.throws(f, (e: unknown) => e instanceof MethodError && e.type === type);

Deno.test("result references: RFC 8620 §3.7", async (t) => {
  // The RFC's example: the thread ids of the emails an Email/get returned.
  const responses: Invocation[] = [
    ["Email/query", { ids: ["e1", "e2"] }, "t0"],
    ["Email/get", {
      list: [{ id: "e1", threadId: "t1", parts: [{ id: "p1" }, { id: "p2" }] }, {
        id: "e2",
        threadId: "t2",
        parts: [{ id: "p3" }],
        "a/b~c": 7,
      }],
    }, "t1"],
  ];

  await t.step("paths, * over arrays (flattening), ~1 and ~0", () => {
    assert.deepEqual(evaluate(responses[1][1], "/list/*/threadId"), ["t1", "t2"]);
    assert.deepEqual(evaluate(responses[1][1], "/list/*/parts/*/id"), ["p1", "p2", "p3"]);
    assert.equal(evaluate(responses[1][1], "/list/1/a~1b~0c"), 7);
    assert.deepEqual(evaluate(responses[0][1], ""), { ids: ["e1", "e2"] });
  });

  await t.step("resolves #args; refuses bad ones", () => {
    const args = resolveReferences(
      { accountId: "a1", "#ids": { resultOf: "t0", name: "Email/query", path: "/ids" } },
      responses,
    );
    assert.deepEqual({ ...args }, { accountId: "a1", ids: ["e1", "e2"] });
    refError(() =>
      resolveReferences({ "#ids": { resultOf: "t0", name: "Email/get", path: "/ids" } }, responses)
    );
    refError(() =>
      resolveReferences({ "#ids": { resultOf: "zz", name: "Email/get", path: "/ids" } }, responses)
    );
    refError(() => resolveReferences({ "#ids": "nope" }, responses));
    refError(() => evaluate(responses[1][1], "/list/9/id"));
    refError(() => evaluate(responses[1][1], "list"));
    refError(() => evaluate(responses[1][1], "/" + "a/".repeat(40)));
    refError(
      () =>
        resolveReferences({
          ids: [],
          "#ids": { resultOf: "t0", name: "Email/query", path: "/ids" },
        }, responses),
      "invalidArguments",
    );
  });
});

Deno.test("result references: a huge array under * is refused, not a RangeError", () => {
  // One item whose array alone is past the limit: counted before it is copied (a spread of
  // so many items would throw RangeError, which is no JMAP answer).
  const ids = Array.from({ length: 500_000 }, (_, i) => `e${i}`);
  refError(() => evaluate({ list: [{ ids }] }, "/list/*/ids"));
  // Under the limit it flattens as before.
  assert.equal(
    (evaluate({ list: [{ ids: ids.slice(0, 90_000) }] }, "/list/*/ids") as unknown[])
      .length,
    90_000,
  );
});
