// A Durable Object's queue of exclusive work: outbound calls let other requests interleave, so runs chain here.
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` after every earlier call has finished (whether it succeeded or not). */
  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
