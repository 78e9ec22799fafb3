/**
 * Methods of the core capability (RFC 8620 §4).
 *
 * @module
 */
import type { JmapMethod } from "./context.ts";
import { CORE } from "./session.ts";

/** RFC 8620 §4.1: Core/echo returns its arguments unchanged. */
const echo: JmapMethod = {
  capability: CORE,
  run: (_ctx, args) => Promise.resolve(args),
};

export const CORE_METHODS: Record<string, JmapMethod> = { "Core/echo": echo };
