/**
 * Loads one admin API resource for a page: the data, the error to show, and a reload.
 *
 * @module
 */
/// <reference lib="dom" />
import { useCallback, useEffect, useState } from "preact/hooks";
import { call } from "./api.ts";
import type { Session } from "./session.ts";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

export function useLoad<T>(session: Session, path: string): Loaded<T> {
  const { token, fail: onError } = session;
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    call<T>(token, "GET", path).then((d) => {
      if (live) {
        setData(d);
        setError(null);
      }
    }).catch((e) => {
      if (live && !onError(e)) setError((e as Error).message);
    });
    return () => {
      live = false;
    };
  }, [token, path, tick]);
  return { data, error, reload: useCallback(() => setTick((t) => t + 1), []) };
}
