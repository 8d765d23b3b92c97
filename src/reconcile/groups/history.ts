// The group's history recorder: turns tick records into history rows (only on change) and keeps the rows thinned.
import { nextHistoryPoint, thinHistory, thinningDue, type HistoryPoint } from "../../core/scaling/history.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";
import type { TickRecord } from "../shared/service.ts";

/** One per Durable Object instance; remembers the newest point so a steady tick reads and writes nothing. */
export class HistoryRecorder {
  readonly #store: CoordinatorStore;
  /** The newest stored point (null: none), read once. */
  #last: HistoryPoint | null | undefined;
  /** When (tick time, ms) the rows were last thinned by this instance. */
  #thinnedAt: number | undefined;

  constructor(store: CoordinatorStore) {
    this.#store = store;
  }

  /**
   * Adds the tick's reading (desired, servers by state) when it differs from the newest point. A failed
   * listing says nothing about the servers and is not recorded. Thinning runs only along with a write.
   */
  record(record: TickRecord): void {
    if (record.listing !== "complete") return;
    if (this.#last === undefined) this.#last = this.#store.lastHistory() ?? null;
    const point = nextHistoryPoint(this.#last ?? undefined, { at: Date.parse(record.at), desired: record.desired.value, actual: record.actualByStatus });
    if (point === undefined) return;
    this.#store.appendHistory(point);
    this.#last = point;
    if (thinningDue(this.#thinnedAt, point.at)) {
      const all = this.#store.readHistory();
      const kept = new Set(thinHistory(all, point.at).map((p) => p.at));
      this.#store.deleteHistory(all.filter((p) => !kept.has(p.at)).map((p) => p.at));
      this.#thinnedAt = point.at;
    }
  }

  /** Points from `since` (epoch ms) on, preceded by the one in force at `since` (its `at` is earlier). */
  since(since: number): HistoryPoint[] {
    const before = this.#store.lastHistory(since);
    return [...(before === undefined ? [] : [before]), ...this.#store.readHistory(since)];
  }

  /** The store was cleared (group deleted): forget what was cached. */
  reset(): void {
    this.#last = undefined;
    this.#thinnedAt = undefined;
  }
}
