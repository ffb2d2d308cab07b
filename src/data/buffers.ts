// Batch pixel buffers recycled between batches when the active tfjs backend copies what it is
// given (the torch backend uploads a copy; cpu keeps the array itself, so buffers stay fresh there).
import * as tf from "@tensorflow/tfjs";

/** Backends whose `write` copies the values, so the array may be reused right after tf.tensor(). */
const COPYING_BACKENDS = new Set(["torch"]);

/** A free list of equally sized Float32Arrays, at most `keep` of them. */
export class BufferPool {
  private readonly free: Float32Array[] = [];

  constructor(
    readonly length: number,
    readonly keep: number,
    private readonly copies: () => boolean = () => COPYING_BACKENDS.has(tf.getBackend()),
  ) {}

  /** A buffer of `length` floats; its contents are whatever the last user left (every value gets overwritten). */
  take(): Float32Array {
    return this.free.pop() ?? new Float32Array(this.length);
  }

  /** Hands `buf` back once a tensor has been made from it; kept only where that tensor holds a copy. */
  give(buf: Float32Array): void {
    if (buf.length === this.length && this.free.length < this.keep && this.copies()) this.free.push(buf);
  }

  /** Buffers waiting to be reused (for tests). */
  get available(): number {
    return this.free.length;
  }
}
