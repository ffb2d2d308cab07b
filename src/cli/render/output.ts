// A write target that survives a closed pipe: `sdfn build … | head` closes
// stdout early; the write then fails with EPIPE, and an unhandled stream
// 'error' would crash the run. After such an error the output goes quiet and
// `onClose` listeners run (the renderer then stops the run after its step,
// with a checkpoint: the reader is gone, as SIGPIPE would end a plain tool).

export interface Output {
  write(text: string): void;
  /** True once the stream failed (EPIPE or otherwise); later writes are dropped. */
  readonly closed: boolean;
  /** Runs `listener` once when the stream fails (at once if it already has). */
  onClose(listener: () => void): void;
}

interface Guard {
  closed: boolean;
  listeners: (() => void)[];
}

const guarded = new WeakMap<NodeJS.WritableStream, Guard>();

function guardOf(stream: NodeJS.WritableStream): Guard {
  let guard = guarded.get(stream);
  if (!guard) {
    const g: Guard = { closed: false, listeners: [] };
    stream.on("error", () => close(g));
    guarded.set(stream, g);
    guard = g;
  }
  return guard;
}

function close(g: Guard) {
  if (g.closed) return;
  g.closed = true;
  for (const listener of g.listeners.splice(0)) listener();
}

/**
 * Installs (once per stream) an 'error' listener that marks the stream closed
 * instead of crashing, and returns a writer that drops text after that.
 */
export function guardOutput(stream: NodeJS.WritableStream): Output {
  const g = guardOf(stream);
  return {
    write(text: string) {
      if (g.closed) return;
      if ((stream as { destroyed?: boolean }).destroyed) return close(g);
      try {
        stream.write(text);
      } catch {
        close(g); // a synchronous failure of a closed stream
      }
    },
    get closed() {
      return g.closed;
    },
    onClose(listener: () => void) {
      if (g.closed) listener();
      else g.listeners.push(listener);
    },
  };
}
