// The dashboard's state behind a throttle: events fold in immediately, but
// subscribers (the Ink app) hear about it at most once per interval, so a fast
// training loop costs one cheap fold per step plus a few frames a second. The
// interval also adapts to what a frame costs (Ink redraws every character):
// frames take at most ~2.5% of the time (FRAME_SHARE), and at least one a second.
import type { TrainEvent } from "../../train/events.js";
import { applyEvent, emptyState, markStopping, type DashboardState } from "./state.js";

/** A frame may cost this share of the time between frames. */
const FRAME_SHARE = 1 / 40;
const MAX_INTERVAL_MS = 1000;

export class DashboardStore {
  readonly state: DashboardState = emptyState();
  /** Bumped on every notification; React reads it as the snapshot. */
  version = 0;
  /** Smoothed milliseconds from a throttled notification to its frame on the terminal. */
  frameMs: number | undefined;
  private listeners = new Set<() => void>();
  private lastNotify = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private frameStart: number | undefined;

  /** `minIntervalMs`: the shortest time between frames (100 ms = 10 fps). */
  constructor(private readonly minIntervalMs = 100) {}

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

  /** The time between frames now: the minimum, or longer when frames are expensive. */
  interval(): number {
    const adaptive = this.frameMs === undefined ? 0 : this.frameMs / FRAME_SHARE;
    return Math.min(MAX_INTERVAL_MS, Math.max(this.minIntervalMs, adaptive));
  }

  /** Ink drew a frame (its onRender): measures the frame a throttled notification started. */
  frameDrawn = (): void => {
    if (this.frameStart === undefined) return;
    const ms = performance.now() - this.frameStart;
    this.frameStart = undefined;
    this.frameMs = this.frameMs === undefined ? ms : 0.7 * this.frameMs + 0.3 * ms;
  };

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
    const wait = this.lastNotify + this.interval() - performance.now();
    const notify = () => {
      // React renders in a microtask right after this callback, and Ink draws it
      // synchronously: the time until frameDrawn is the frame's cost.
      this.frameStart = performance.now();
      this.flush();
    };
    if (wait <= 0) notify();
    else this.timer = setTimeout(notify, wait);
  }
}
