// Stop requests: `q` or a first Ctrl-C (a key in the Ink dashboard, SIGINT
// otherwise) aborts the signal, so the trainer finishes its step, writes a
// checkpoint and emits `stopped`; a Ctrl-C after that exits at once (130).

export interface Interrupt {
  signal: AbortSignal;
  /** `q`: ask the run to stop after the current step (`quiet`: the caller says why itself). */
  stop(quiet?: boolean): void;
  /** Ctrl-C or SIGINT: the first stops after the step, the next exits now. */
  interrupt(): void;
}

export const EXIT_INTERRUPTED = 130;

export function createInterrupt(opts: {
  /** Called once, when the first stop request arrives. */
  onStopping(): void;
  /** Called before exiting at once (restore the terminal). */
  onExitNow(): void;
  exit(code: number): void;
}): Interrupt {
  const controller = new AbortController();
  const stop = (quiet = false) => {
    if (controller.signal.aborted) return;
    controller.abort(new Error("stopped by the user"));
    if (!quiet) opts.onStopping();
  };
  return {
    signal: controller.signal,
    stop,
    interrupt() {
      if (!controller.signal.aborted) return stop();
      opts.onExitNow();
      opts.exit(EXIT_INTERRUPTED);
    },
  };
}
