/**
 * Live updates (RFC 8620 §7.3 push by event source). The browser's EventSource cannot send
 * an Authorization header, and putting the token in the URL would leak it into logs and
 * history, so the stream is read with fetch() — which sends the bearer header like every
 * other call — and its text/event-stream parsed here (only `event:` and `data:` lines).
 * Each `state` event calls `onChange`; a dropped stream reconnects after a growing pause.
 *
 * @module
 */
/// <reference lib="dom" />
import type { Jmap } from "./jmap.ts";

/** Reads the stream until it ends or `signal` aborts; calls `onState` for state events. */
async function readStream(
  jmap: Jmap,
  signal: AbortSignal,
  onState: () => void,
  onOpen: () => void,
): Promise<void> {
  const res = await fetch(jmap.eventSourceUrl("Email,Mailbox", 60), {
    headers: { ...jmap.auth, accept: "text/event-stream" },
    signal,
    cache: "no-store",
  });
  if (res.status === 401) {
    // The token was revoked: sign out (the app then stops this loop) instead of retrying.
    jmap.onSignedOut?.();
    throw new Error("signed out");
  }
  if (!res.ok || !res.body) throw new Error(`push refused (${res.status})`);
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let event = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (event === "state") onState();
        event = "";
      } else if (line.startsWith("event:")) event = line.slice(6).trim();
    }
    if (buf.length > 1_000_000) throw new Error("push event too large");
  }
}

/** Reads streams one after another until `signal` aborts (reconnecting after a pause). */
async function streamLoop(jmap: Jmap, signal: AbortSignal, onChange: () => void): Promise<void> {
  let pause = 1000;
  while (!signal.aborted) {
    try {
      await readStream(jmap, signal, onChange, () => (pause = 1000));
    } catch { /* dropped or refused: try again below */ }
    if (signal.aborted) return;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 60_000);
    onChange(); // catch up on what happened while the stream was down
  }
}

/**
 * Keeps live updates coming until the returned function is called. Only one tab per account
 * holds a stream (a Web Lock; the others hear of changes on a BroadcastChannel), because
 * over HTTP/1.1 a browser opens at most 6 connections to a server and every stream keeps
 * one: with more tabs than that, the API calls would wait for ever. When the tab with the
 * stream closes, another one takes the lock.
 */
export function startPush(jmap: Jmap, onChange: () => void): () => void {
  const stop = new AbortController();
  const name = `denomail-push:${jmap.username}`;
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
  if (channel) channel.onmessage = () => onChange();
  const changed = () => {
    onChange();
    channel?.postMessage("changed");
  };
  if (navigator.locks) {
    navigator.locks.request(
      name,
      { signal: stop.signal },
      () => streamLoop(jmap, stop.signal, changed),
    ).catch(() => {/* aborted while waiting */});
  } else streamLoop(jmap, stop.signal, changed);
  return () => {
    stop.abort();
    channel?.close();
  };
}
