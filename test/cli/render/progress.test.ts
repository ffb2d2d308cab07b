// Progress of a preparation before the start (data.check_images: full): the plain log prints
// the first, every tenth and the last; the dashboard's spinner shows it until it is done.
import { describe, expect, it } from "vitest";
import type { Output } from "../../../src/cli/render/output.js";
import { createPlainLogger } from "../../../src/cli/render/plain.js";
import { applyEvent, emptyState } from "../../../src/cli/render/state.js";
import type { TrainEvent } from "../../../src/train/events.js";

const progress = (done: number, total = 250): TrainEvent => ({ type: "progress", time: done, task: "checking images", done, total });

describe("progress events", () => {
  it("plain: 0 %, each tenth once, 100 %", () => {
    let text = "";
    const out: Output = { write: (t) => void (text += t), closed: false, onClose: () => {} };
    const log = createPlainLogger(out);
    for (let done = 0; done <= 250; done += 2) log.sink(progress(done));
    log.sink(progress(250)); // a repeated end prints once more only as the end
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("checking images 0/250 (0%)");
    expect(lines.slice(1, 10).map((l) => /\((\d+)%\)/.exec(l)![1])).toEqual(["10", "20", "30", "40", "50", "60", "70", "80", "90"]);
    expect(lines.slice(10)).toEqual(["checking images 250/250 (100%)", "checking images 250/250 (100%)"]);
  });

  it("dashboard state: shown while running, a finished line at the end", () => {
    const s = emptyState();
    applyEvent(s, progress(100));
    expect(s.progress).toMatchObject({ done: 100, total: 250 });
    applyEvent(s, progress(250));
    expect(s.progress).toBeUndefined();
    expect(s.finished.at(-1)!.text).toBe("checking images 250/250 (100%)");
  });
});
