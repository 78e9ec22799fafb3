/**
 * A progress bar on stderr for long CLI jobs (import, spam train): drawn only on a TTY,
 * at most about ten times a second.
 *
 * @module
 */
const enc = new TextEncoder();

export class Progress {
  #on = Deno.stderr.isTerminal();
  #last = 0;

  /** `total` is in the caller's unit (bytes, messages); `count` is what the line shows. */
  constructor(readonly label: string, readonly total: number, readonly unit = "messages") {}

  update(done: number, count: number): void {
    if (!this.#on) return;
    const now = Date.now();
    if (now - this.#last < 100 && done < this.total) return;
    this.#last = now;
    const f = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 30;
    const bar = "#".repeat(Math.round(f * width)).padEnd(width, ".");
    const line = `\r${this.label} [${bar}] ${Math.round(f * 100)}% ${count} ${this.unit}`;
    Deno.stderr.writeSync(enc.encode(line));
  }

  end(): void {
    if (this.#on) Deno.stderr.writeSync(enc.encode("\n"));
  }
}
