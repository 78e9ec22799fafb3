/** Words of a language the learned ham never had are left out of both models (foreign.ts). */
import assert from "node:assert/strict";
import { foreignTokens } from "./foreign.ts";
import { GLOBAL, LearnBatch } from "./model.ts";
import { memoryKv } from "../../../bench/spam_eval.ts";
import { parseMail } from "./parse.ts";
import { bayesProbability, scanMessage, tokenHashes } from "./score.ts";
import { readSpamOptions } from "./options.ts";
import { spamReport } from "./status.ts";
import { BayesModel } from "./model.ts";
import { tokenize } from "./tokenize.ts";

const mail = (subject: string, body: string, charset = "iso-8859-1") =>
  new TextEncoder().encode(
    `From: a@example.org\r\nTo: b@example.net\r\nSubject: ${subject}\r\n` +
      `Content-Type: text/plain; charset=${charset}\r\n\r\n${body}\r\n`,
  );

const english = [
  "the meeting moved to thursday, please bring the notes from last week and the budget",
  "could you review the patch before we merge it into the release branch this evening",
  "thanks for the report, the build is fixed now and the tests pass again on all machines",
];
const germanSpam = [
  "jetzt gewinnen und sparen, wir haben die besten angebote für sie, bitte hier klicken",
  "haben sie schon gewonnen? wir schenken ihnen mehr, bitte jetzt antworten und sparen",
];
const germanHam = "Hallo Peter, wir haben die Unterlagen für das Treffen am Mittwoch " +
  "bekommen und schicken dir bitte morgen die neue Fassung, wenn du Zeit hast.";

async function trained() {
  const kv = memoryKv();
  const batch = new LearnBatch(kv);
  let n = 0;
  for (let k = 0; k < 25; k++) {
    for (const t of english) {
      await batch.add(GLOBAL, `h${n++}`, tokenHashes(parseMail(mail("notes", `${t} ${k}`))), false);
    }
    for (const t of germanSpam) {
      await batch.add(
        GLOBAL,
        `s${n++}`,
        tokenHashes(parseMail(mail("angebot", `${t} ${k}`))),
        true,
      );
    }
  }
  await batch.flush();
  return new BayesModel(kv);
}

Deno.test("foreign: a letter in a language no learned ham had is judged without its words", async () => {
  const model = await trained();
  const tokens = [...tokenize(parseMail(mail("Treffen", germanHam)))];
  const { p, foreign } = await bayesProbability(model, [GLOBAL], tokens, 20);
  // The German words the spam taught ("wir", "haben", "bitte") say nothing here.
  for (const w of ["wir", "haben", "bitte"]) assert.ok(foreign.has(w), w);
  // Without them nothing here is spam-like: neutral, not 1.0 for being German.
  assert.ok(p !== null && p <= 0.6, `p ${p}`);
  // German spam is still spam: its subject is a token spam taught, and it is not a word.
  const spam = [...tokenize(parseMail(mail("angebot", `${germanSpam[0]} 99`)))];
  const s = await bayesProbability(model, [GLOBAL], spam, 20);
  assert.ok(s.foreign.size > 0 && s.p !== null && s.p > 0.95, `spam p ${s.p}`);
  // An English message, whose words ham had, loses nothing.
  const en = [...tokenize(parseMail(mail("notes", "please review the notes before the meeting")))];
  assert.equal((await bayesProbability(model, [GLOBAL], en, 20)).foreign.size, 0);
  // The report says so with a rule that scores nothing (X-Spam-Report, spam classify --json).
  const scan = (raw: Uint8Array) =>
    scanMessage({ raw }, { options: readSpamOptions({ linear: false }), model });
  const letter = await scanMessage({ raw: mail("Treffen", germanHam) }, {
    options: readSpamOptions({ linear: false }),
    model,
  });
  assert.deepEqual(letter.hits.find((h) => h.name === "LANG_NOT_LEARNED"), {
    name: "LANG_NOT_LEARNED",
    score: 0,
  });
  assert.match(spamReport(letter.score, 5, letter.hits, letter.bayes), / 0\.0 LANG_NOT_LEARNED /);
  const note = (await scan(mail("notes", english[0]))).hits.map((h) => h.name);
  assert.ok(!note.includes("LANG_NOT_LEARNED"));
});

Deno.test("foreign: only when most words are unknown to ham, and only words and language marks", () => {
  const c = (spam: number, ham: number) => ({ spam, ham });
  const words = Array.from({ length: 10 }, (_, i) => `w${i}`);
  // 2 of 10 words known to ham (< 0.3): the 8 others and the spam-only script mark go.
  const tokens = [...words, "script:han", "mime:text/plain", "s:hello"];
  const counts = [...words.map((_, i) => i < 2 ? c(1, 3) : c(3, 0)), c(5, 0), c(9, 0), c(4, 0)];
  assert.deepEqual(
    [...foreignTokens(tokens, counts)].sort(),
    [...words.slice(2), "script:han"].sort(),
  );
  // 3 of 10 known: the language is the site's; nothing is left out.
  const known3 = [...words.map((_, i) => i < 3 ? c(1, 3) : c(3, 0)), c(5, 0), c(9, 0), c(4, 0)];
  assert.equal(foreignTokens(tokens, known3).size, 0);
  // Too few words to tell.
  assert.equal(foreignTokens(words.slice(0, 9), counts.slice(0, 9)).size, 0);
});
