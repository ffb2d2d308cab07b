// The dashboard's state behind a throttle: events fold in immediately, but
// subscribers (the Ink app) hear about it at most once per `intervalMs`, so a
// fast training loop costs one cheap fold per step and ≤10 frames a second.
import type { TrainEvent } from "../../train/events.js";
import { applyEvent, emptyState, markStopping, type DashboardState } from "./state.js";

export class DashboardStore {
  readonly state: DashboardState = emptyState();
  /** Bumped on every notification; React reads it as the snapshot. */
  version = 0;
  private listeners = new Set<() => void>();
  private lastNotify = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 100) {}

  dispatch = (event: TrainEvent): void => {
    applyEvent(this.state, event);
    // Lines that end a phase show at once; steps wait for the throttle.
    if (event.type === "step") this.schedule();
    else this.flush();
  };

  stopping(time = Date.now()): void {
    markStopping(this.state, time);
    this.flush();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  /** Notifies now and cancels any pending throttled notification. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastNotify = performance.now();
    this.version++;
    for (const listener of this.listeners) listener();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.lastNotify + this.intervalMs - performance.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }
}
