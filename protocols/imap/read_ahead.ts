/**
 * Message reads started ahead of their use (IMAP FETCH of bodies): on PostgreSQL each read
 * is a round trip to the database, so FETCH 1:100 BODY[] read one after the other waits 100
 * round trips; with reads in flight ahead of the one being sent, they overlap (the pool runs
 * them on several connections). Bounded: at most `maxCount` reads and `maxBytes` of message
 * sizes ahead (always at least the next one), so memory stays small whatever the set.
 *
 * @module
 */

type Outcome = { bytes: Uint8Array } | { error: unknown };

export class ReadAhead {
  #started = 0;
  #taken = 0;
  #inFlightBytes = 0;
  #pending = new Map<number, Promise<Outcome>>();

  constructor(
    private readonly items: ReadonlyArray<{ blobId: number; size: number }>,
    private readonly read: (blobId: number) => Promise<Uint8Array>,
    private readonly opts: { maxCount: number; maxBytes: number } = {
      maxCount: 16,
      maxBytes: 4 << 20,
    },
  ) {}

  #fill(): void {
    const { maxCount, maxBytes } = this.opts;
    while (
      this.#started < this.items.length &&
      (this.#started === this.#taken ||
        (this.#started - this.#taken < maxCount && this.#inFlightBytes < maxBytes))
    ) {
      const item = this.items[this.#started];
      this.#inFlightBytes += item.size;
      // Settled into an Outcome at once: a read that fails is reported when taken, and
      // never as an unhandled rejection of a read nobody took (the client went away).
      this.#pending.set(
        this.#started++,
        this.read(item.blobId).then((bytes) => ({ bytes }), (error) => ({ error })),
      );
    }
  }

  /** The bytes of item `i`; items must be taken in order (0, 1, 2, ...). */
  async take(i: number): Promise<Uint8Array> {
    if (i !== this.#taken) throw new Error(`ReadAhead: took ${i}, expected ${this.#taken}`);
    this.#fill();
    const outcome = await this.#pending.get(i)!;
    this.#pending.delete(i);
    this.#taken++;
    this.#inFlightBytes -= this.items[i].size;
    this.#fill();
    if ("error" in outcome) throw outcome.error;
    return outcome.bytes;
  }
}
