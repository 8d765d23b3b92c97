// The fake cloud's clock: virtual (moves only when told) or real time plus an offset that tests can push forward.

export type ClockMode = "manual" | "real";

export class FakeClock {
  readonly mode: ClockMode;
  #base: number;
  #offset = 0;

  constructor(mode: ClockMode, startAt: number = Date.now()) {
    this.mode = mode;
    // Real mode measures from the wall clock; manual mode holds still at startAt until advanced.
    this.#base = mode === "real" ? 0 : startAt;
    if (mode === "real") this.#offset = startAt - Date.now();
  }

  now(): number {
    return this.mode === "real" ? Date.now() + this.#offset : this.#base + this.#offset;
  }

  /** Moves time forward (never backward: the cloud's timers only run forward). */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError("the clock only moves forward");
    this.#offset += ms;
    return this.now();
  }

  /** Jumps to an instant that is not in the past. */
  set(at: number): number {
    const delta = at - this.now();
    if (delta < 0) throw new RangeError("the clock only moves forward");
    return this.advance(delta);
  }
}

/** Nova's second-resolution timestamps, e.g. 2026-11-26T20:18:17Z. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Nova's OS-SRV-USG timestamps, e.g. 2026-11-26T20:18:18.000000 (no zone). */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000");
}

/** Keystone's token timestamps, e.g. 2026-11-26T21:18:17.000000Z. */
export function isoKeystone(ms: number): string {
  return `${isoMicros(ms)}Z`;
}
