// Step scalars: numbers that change from one training step to the next and reach kernels as
// float attributes (the scheduled learning rate, Adam's bias corrections). Whoever computes
// one declares it by name; a recording backend (the torch backend's compiled step) binds the
// attributes that carry it, so a replayed step gets the new value instead of the recorded one.

type Sink = (values: Readonly<Record<string, number>>) => void;

let sink: Sink | null = null;

/** Declares this step's scalars (a no-op unless a step is being recorded); returns them. */
export function declareStepScalars<T extends Record<string, number>>(values: T): T {
  sink?.(values);
  return values;
}

/** Where declared scalars go while a step is recorded (null: nowhere). */
export function setStepScalarSink(next: Sink | null): void {
  sink = next;
}
