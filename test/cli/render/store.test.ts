// The throttle between events and frames.
import { afterEach, describe, expect, it, vi } from "vitest";
import { DashboardStore } from "../../../src/cli/render/store.js";
import { runInfo, stepEvent, T0 } from "./fixtures/events.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("DashboardStore", () => {
  const info = runInfo();

  it("notifies on the first step, then at most once per interval; phase events at once", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const store = new DashboardStore(100);
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.state.lastStep?.epochStep ?? -1));
    for (let i = 0; i < 5; i++) store.dispatch(stepEvent(0, i, info, T0 + i));
    expect(seen).toEqual([0]); // steps 1..4 wait for the timer
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([0, 4]); // one frame with the latest state
    store.dispatch({ type: "warning", time: T0, message: "x" });
    expect(seen).toEqual([0, 4, 4]); // not throttled
    store.dispose();
  });

  it("stretches the interval when frames are expensive: a frame ≤ 1/40 of the time, at least 1 fps", () => {
    const store = new DashboardStore(100);
    expect(store.interval()).toBe(100);
    store.frameMs = 5;
    expect(store.interval()).toBe(200);
    store.frameMs = 60;
    expect(store.interval()).toBe(1000);
  });
});
