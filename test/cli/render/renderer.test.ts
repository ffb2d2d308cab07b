// createRenderer: mode choice, q / Ctrl-C / SIGINT aborting the signal, a
// second Ctrl-C exiting with 130, and the resume command printed at the end.
import { afterEach, describe, expect, it, vi } from "vitest";
import { eventToFile } from "../../../src/run/epochs.js";
import { createRenderer, type Renderer } from "../../../src/cli/render/index.js";
import type { TrainEvent } from "../../../src/train/events.js";
import { runInfo, syntheticRun, T0 } from "./fixtures/events.js";
import { FakeStdin, FakeStdout, stripAnsi } from "./fixtures/tty.js";

const stopped: TrainEvent = {
  type: "stopped",
  time: T0,
  reason: "interrupt",
  message: "stopped at epoch 1, step 5",
  resumeCommand: "sdfn build recipes/quickstart.yaml --resume runs/q/checkpoints/interrupt",
};

const open: Renderer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

function inkRenderer(env: NodeJS.ProcessEnv = { CI: "false" }) {
  const stdout = new FakeStdout();
  const stdin = new FakeStdin();
  const exit = vi.fn();
  const r = createRenderer({ mode: "auto", stdout: stdout.asStream(), stdin: stdin.asStream(), env, exit, handleSignals: false, patchConsole: false });
  open.push(r);
  return { r, stdout, stdin, exit };
}

/** Lets Ink's effects (raw mode, the stdin listener) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("createRenderer mode", () => {
  it("auto is the Ink dashboard on a TTY without CI, plain lines otherwise", () => {
    expect(inkRenderer().r.mode).toBe("ink");
    expect(inkRenderer({ CI: "true" }).r.mode).toBe("plain");
    expect(inkRenderer({ CI: "1" }).r.mode).toBe("plain");
    expect(inkRenderer({ TERM: "dumb" }).r.mode).toBe("plain"); // a terminal that cannot move the cursor
    const piped = createRenderer({ mode: "auto", stdout: new FakeStdout({ isTTY: false }).asStream(), env: {}, handleSignals: false });
    open.push(piped);
    expect(piped.mode).toBe("plain");
    const json = createRenderer({ mode: "json", stdout: new FakeStdout().asStream(), env: {}, handleSignals: false });
    open.push(json);
    expect(json.mode).toBe("json");
  });
});

describe("Ink dashboard keys", () => {
  it("q aborts the signal once; the dashboard says it is stopping", async () => {
    const { r, stdout, stdin, exit } = inkRenderer();
    syntheticRun(runInfo()).slice(0, 30).forEach(r.sink);
    await settle();
    expect(stdin.rawMode).toBe(true);
    expect(r.signal.aborted).toBe(false);
    stdin.press("q");
    expect(r.signal.aborted).toBe(true);
    stdin.press("q"); // a second q changes nothing
    expect(exit).not.toHaveBeenCalled();
    await r.close();
    const text = stripAnsi(stdout.text);
    expect(text).toContain("stop requested: finishing the current step, then a checkpoint");
    for (const panel of ["Losses", "Routing", "Evaluation", "Messages"]) expect(text).toContain(panel);
    expect(stdin.rawMode).toBe(false); // the terminal is restored
  });

  it("the first Ctrl-C aborts, the second exits at once with 130", async () => {
    const { r, stdin, exit } = inkRenderer();
    r.sink(syntheticRun(runInfo())[0]);
    await settle();
    stdin.press("\u0003");
    expect(r.signal.aborted).toBe(true);
    expect(exit).not.toHaveBeenCalled();
    stdin.press("\u0003");
    expect(exit).toHaveBeenCalledWith(130);
    expect(stdin.rawMode).toBe(false);
  });

  it("keys that arrive together after a long step count one by one (two Ctrl-C exit, q in text stops)", async () => {
    const { r, stdin, exit } = inkRenderer();
    r.sink(syntheticRun(runInfo())[0]);
    await settle();
    stdin.press("\u0003\u0003");
    expect(r.signal.aborted).toBe(true);
    expect(exit).toHaveBeenCalledWith(130);
    const other = inkRenderer();
    await settle();
    other.stdin.press("xq");
    expect(other.r.signal.aborted).toBe(true);
    expect(other.exit).not.toHaveBeenCalled();
  });

  it("prints the stop notice and the exact resume command below the last frame on close", async () => {
    const { r, stdout } = inkRenderer();
    syntheticRun(runInfo()).slice(0, 10).forEach(r.sink);
    r.sink(stopped);
    await r.close();
    const lines = stripAnsi(stdout.text).trimEnd().split("\n");
    expect(lines.slice(-3)).toEqual([
      "stopped (interrupt): stopped at epoch 1, step 5",
      "resume with:",
      "sdfn build recipes/quickstart.yaml --resume runs/q/checkpoints/interrupt",
    ]);
  });
});

describe("a closed stdout", () => {
  it("stops the run after the step (signal aborted) and says so on stderr", async () => {
    const stdout = new FakeStdout({ isTTY: false });
    const stderr = new FakeStdout({ isTTY: false });
    const r = createRenderer({ mode: "plain", stdout: stdout.asStream(), stderr: stderr.asStream(), handleSignals: false });
    open.push(r);
    r.sink(syntheticRun(runInfo())[0]);
    stdout.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    expect(r.signal.aborted).toBe(true);
    expect(stderr.text).toBe("sdfn: stdout closed; stopping after the current step (a checkpoint follows)\n");
    const before = stdout.chunks.length;
    r.sink(syntheticRun(runInfo())[1]);
    expect(stdout.chunks.length).toBe(before); // nothing more is written
  });
});

describe("SIGINT in plain mode", () => {
  it("the first SIGINT aborts, the second exits with 130; close removes the listener", async () => {
    const before = process.listenerCount("SIGINT");
    const stdout = new FakeStdout({ isTTY: false });
    const exit = vi.fn();
    const r = createRenderer({ mode: "auto", stdout: stdout.asStream(), env: {}, exit });
    expect(process.listenerCount("SIGINT")).toBe(before + 1);
    r.sink(syntheticRun(runInfo())[0]);
    process.emit("SIGINT");
    expect(r.signal.aborted).toBe(true);
    expect(exit).not.toHaveBeenCalled();
    expect(stdout.text).toContain("stopping after the current step; a checkpoint follows (Ctrl-C again exits now)\n");
    process.emit("SIGINT");
    expect(exit).toHaveBeenCalledWith(130);
    r.sink(stopped);
    await r.close();
    expect(process.listenerCount("SIGINT")).toBe(before);
    expect(stdout.text.trimEnd().split("\n").at(-1)).toBe(stopped.resumeCommand);
    expect(stdout.text).not.toContain(String.fromCharCode(27));
  });

  it("in JSON mode stdout stays pure JSON lines; notes go to stderr", async () => {
    const stdout = new FakeStdout({ isTTY: false });
    const stderr = new FakeStdout({ isTTY: false });
    const r = createRenderer({ mode: "json", stdout: stdout.asStream(), stderr: stderr.asStream(), exit: vi.fn() });
    const events = syntheticRun(runInfo({ epochs: 1, stepsPerEpoch: 2 }));
    events.forEach(r.sink);
    process.emit("SIGINT");
    await r.close();
    expect(r.signal.aborted).toBe(true);
    expect(stdout.text.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual(events.map(eventToFile)); // epochs from 1, as in metrics.jsonl
    expect(stderr.text).toContain("stopping after the current step");
  });
});
