// A write target that survives a closed pipe: `sdfn build … | head` closes
// stdout early; the write then fails with EPIPE, and an unhandled stream
// 'error' would crash the run. After such an error the output goes quiet and
// the run carries on (its metrics still land in the run directory).

export interface Output {
  write(text: string): void;
  /** True once the stream failed (EPIPE or otherwise); later writes are dropped. */
  readonly closed: boolean;
}

const guarded = new WeakMap<NodeJS.WritableStream, { closed: boolean }>();

/**
 * Installs (once per stream) an 'error' listener that marks the stream closed
 * instead of crashing, and returns a writer that drops text after that.
 */
export function guardOutput(stream: NodeJS.WritableStream): Output {
  let flag = guarded.get(stream);
  if (!flag) {
    const f = { closed: false };
    guarded.set(stream, f);
    stream.on("error", () => {
      f.closed = true;
    });
    flag = f;
  }
  const state = flag;
  return {
    write(text: string) {
      if (state.closed) return;
      const s = stream as NodeJS.WritableStream & { destroyed?: boolean };
      if (s.destroyed) {
        state.closed = true;
        return;
      }
      try {
        stream.write(text);
      } catch {
        state.closed = true; // a synchronous EPIPE from a pipe that closed
      }
    },
    get closed() {
      return state.closed;
    },
  };
}
