/**
 * Whether the process is shutting down (SIGINT/SIGTERM received). Components that see
 * their children end at that moment (plugin processes share the terminal's Ctrl-C) read it
 * to tell a shutdown from a failure.
 *
 * @module
 */

let shuttingDown = false;

/** Marks the process as shutting down (idempotent). */
export function beginShutdown(): void {
  shuttingDown = true;
}

/** True once beginShutdown() ran. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}
