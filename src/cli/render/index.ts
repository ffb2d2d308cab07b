// createRenderer: the one place a run's events meet the terminal. `auto` shows
// the Ink dashboard on an interactive terminal (stdout a TTY and CI unset) and
// plain lines otherwise; `json` writes one JSON line per event. It owns the
// stop keys: `q` / first Ctrl-C abort `signal`, a second Ctrl-C exits (130). SIGTERM
// stops the same way (a checkpoint first); the command then exits 143, a second SIGTERM at once.
import "./react-production.js"; // first: before ink-app loads React
import type { EventSink, TrainEvent } from "../../train/events.js";
import { mountDashboard } from "./ink-app.js";
import { createInterrupt, type Interrupt } from "./interrupt.js";
import { createJsonSink } from "./json.js";
import { formatEnd, formatStopped } from "./lines.js";
import { guardOutput, type Output } from "./output.js";
import { createPlainLogger } from "./plain.js";
import { DashboardStore } from "./store.js";

export { guardOutput, type Output } from "./output.js";
export { EXIT_INTERRUPTED } from "./interrupt.js";

/** 128 + SIGTERM, as a shell reports a process the signal ended. */
export const EXIT_TERMINATED = 143;

export type RenderMode = "auto" | "plain" | "json";

export interface RendererOptions {
  mode: RenderMode;
  stdout?: NodeJS.WriteStream;
  /** Where `q` and Ctrl-C are read in the dashboard (default process.stdin). */
  stdin?: NodeJS.ReadStream;
  /** Where notes go when stdout carries JSON or has closed (default process.stderr). */
  stderr?: NodeJS.WriteStream;
  /** For the CI check (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Called by a second Ctrl-C (default process.exit). */
  exit?: (code: number) => void;
  /** Listen for SIGINT and SIGTERM (default true). */
  handleSignals?: boolean;
  /** Plain mode: a line every N steps (default ~10 per epoch). */
  every?: number;
  /** Dashboard frames per second at most (default 10). */
  fps?: number;
  /** Route console.* output above the dashboard (default true; vitest's console cannot be patched). */
  patchConsole?: boolean;
}

export interface Renderer {
  sink: EventSink;
  /** Aborted by `q` or the first Ctrl-C: the trainer stops after its step. */
  signal: AbortSignal;
  /** What `auto` chose. */
  mode: "ink" | "plain" | "json";
  /** A SIGTERM stopped the run: the command exits EXIT_TERMINATED after its checkpoint. */
  readonly terminated: boolean;
  /** Ends the dashboard (the last frame stays), prints the resume command, removes listeners. */
  close(): Promise<void>;
}

/** The same test Ink makes: CI (or CONTINUOUS_INTEGRATION) set and not "0"/"false". */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const set = (k: string) => k in env && env[k] !== "0" && env[k] !== "false";
  return set("CI") || set("CONTINUOUS_INTEGRATION");
}

export function createRenderer(opts: RendererOptions): Renderer {
  const stdout = opts.stdout ?? process.stdout;
  const env = opts.env ?? process.env;
  // TERM=dumb cannot move the cursor: plain lines, as in a pipe.
  const mode = opts.mode === "auto" ? (stdout.isTTY && !isCi(env) && env.TERM !== "dumb" ? "ink" : "plain") : opts.mode;
  const out = guardOutput(stdout);
  const parts = mode === "ink" ? inkParts(stdout, out, opts) : lineParts(mode, out, opts);
  // The reader went away (`| head`): stop after the step with a checkpoint rather than train unseen.
  out.onClose(() => {
    guardOutput(opts.stderr ?? process.stderr).write("sdfn: stdout closed; stopping after the current step (a checkpoint follows)\n");
    parts.interrupt.stop(true);
  });
  const onSignal = () => parts.interrupt.interrupt();
  let terminated = false;
  const onTerm = () => {
    if (terminated) (opts.exit ?? process.exit)(EXIT_TERMINATED);
    terminated = true;
    guardOutput(opts.stderr ?? process.stderr).write("sdfn: SIGTERM; stopping after the current step (a checkpoint follows)\n");
    parts.interrupt.stop(true);
  };
  if (opts.handleSignals !== false) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onTerm);
  }
  let closed = false;
  return {
    mode,
    get terminated() {
      return terminated;
    },
    signal: parts.interrupt.signal,
    sink: (event) => {
      if (!closed) parts.sink(event);
    },
    async close() {
      if (closed) return;
      closed = true;
      await parts.close();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onTerm);
    },
  };
}

interface Parts {
  sink: EventSink;
  interrupt: Interrupt;
  close(): Promise<void>;
}

function lineParts(mode: "plain" | "json", out: Output, opts: RendererOptions): Parts {
  const notes = mode === "json" ? guardOutput(opts.stderr ?? process.stderr) : out;
  const plain = mode === "plain" ? createPlainLogger(out, { every: opts.every }) : undefined;
  const interrupt = createInterrupt({
    onStopping: () =>
      plain ? plain.stopping() : notes.write("stopping after the current step; a checkpoint follows (Ctrl-C again exits now)\n"),
    onExitNow: () => notes.write("exiting now; progress since the last checkpoint is lost\n"),
    exit: opts.exit ?? ((code) => process.exit(code)),
  });
  return { sink: plain ? plain.sink : createJsonSink(out), interrupt, close: async () => {} };
}

function inkParts(stdout: NodeJS.WriteStream, out: Output, opts: RendererOptions): Parts {
  const fps = opts.fps ?? 10;
  const store = new DashboardStore(1000 / fps);
  let stopped: Extract<TrainEvent, { type: "stopped" }> | undefined;
  let ended: Extract<TrainEvent, { type: "end" }> | undefined;
  let unmounted = false;
  const interrupt = createInterrupt({
    onStopping: () => store.stopping(),
    onExitNow: () => {
      unmounted = true;
      store.dispose();
      instance.unmount();
      out.write("exiting now; progress since the last checkpoint is lost\n");
    },
    exit: opts.exit ?? ((code) => process.exit(code)),
  });
  const instance = mountDashboard(
    { store, onStop: interrupt.stop, onInterrupt: interrupt.interrupt },
    { stdout, stdin: opts.stdin ?? process.stdin, fps, patchConsole: opts.patchConsole ?? true },
  );
  return {
    interrupt,
    sink(event) {
      if (event.type === "stopped") stopped = event;
      if (event.type === "end") ended = event;
      store.dispatch(event);
    },
    async close() {
      if (unmounted) return;
      unmounted = true;
      store.flush();
      // Let React commit the last update (and ProgressBar measure itself) before the final frame.
      await new Promise((resolve) => setTimeout(resolve, 30));
      instance.unmount();
      await instance.waitUntilExit();
      store.dispose();
      // Below the last frame, so the resume command is the last thing on screen.
      if (ended) out.write(`${formatEnd(ended)}\n`);
      if (stopped) out.write(`${formatStopped(stopped).join("\n")}\n`);
    },
  };
}
