// The report's data: loss components per step, recall per evaluation, and
// routing weights per module per layer averaged over each epoch, from events.
import { routingRows } from "../view/routing.js";
import type { RunInfo, TrainEvent } from "../train/events.js";
import type { Point, Series } from "./svg.js";

type Of<T extends TrainEvent["type"]> = Extract<TrainEvent, { type: T }>;

/** The last run info (a resumed run appends a new start event). */
export const lastInfo = (events: readonly TrainEvent[]): RunInfo | undefined =>
  events.filter((e): e is Of<"start"> => e.type === "start").at(-1)?.info;

/**
 * Step events by global step; a step trained again after a resume replaces the
 * earlier one, so each step appears once, in order.
 */
export function uniqueSteps(events: readonly TrainEvent[]): Of<"step">[] {
  const byStep = new Map<number, Of<"step">>();
  for (const e of events) if (e.type === "step") byStep.set(e.step, e);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** One series per loss component (declared order), then the total; x = step (1-based). */
export function lossSeries(steps: readonly Of<"step">[], order: readonly string[] = []): Series[] {
  const names = [...order];
  for (const s of steps) for (const n of Object.keys(s.losses)) if (!names.includes(n)) names.push(n);
  const series = names.map((name) => ({
    name,
    points: steps.filter((s) => name in s.losses).map((s) => ({ x: s.step + 1, y: s.losses[name] })),
  }));
  series.push({ name: "total", points: steps.map((s) => ({ x: s.step + 1, y: s.total })) });
  return series.filter((s) => s.points.length > 0);
}

/** The evaluations, the latest per epoch (a resume may evaluate an epoch again). */
export function evaluations(events: readonly TrainEvent[]): Of<"evaluation">[] {
  const byEpoch = new Map<number, Of<"evaluation">>();
  for (const e of events) if (e.type === "evaluation") byEpoch.set(e.epoch, e);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Recall series grouped by category/protocol ("dress/R@10" → group dress, series R@10); x = epoch (1-based). */
export function recallGroups(evals: readonly Of<"evaluation">[]): { group: string; series: Series[] }[] {
  const groups = new Map<string, Map<string, Point[]>>();
  for (const e of evals)
    for (const [name, value] of Object.entries(e.metrics)) {
      const cut = name.lastIndexOf("/");
      const group = cut < 0 ? "" : name.slice(0, cut);
      const metric = cut < 0 ? name : name.slice(cut + 1);
      if (!groups.has(group)) groups.set(group, new Map());
      const g = groups.get(group)!;
      if (!g.has(metric)) g.set(metric, []);
      g.get(metric)!.push({ x: e.epoch + 1, y: value });
    }
  return [...groups].map(([group, g]) => ({ group, series: [...g].map(([name, points]) => ({ name, points })) }));
}

/** The evaluation last marked best. */
export const bestEvaluation = (evals: readonly Of<"evaluation">[]) => evals.filter((e) => e.best).at(-1);

export interface RoutingChart {
  label: string;
  modules: string[];
  /** One series per module: the mean weight over each epoch's steps; x = epoch (1-based). */
  series: Series[];
}

/**
 * Routing weight per module per routing row (layers 2..L incoming, then the
 * output w), averaged over each epoch's steps; x = epochs done (1 = end of the
 * first). Short runs (under 12 epochs) average over parts of an epoch instead,
 * so a 2-epoch run still shows a trend.
 */
export function routingCharts(steps: readonly Of<"step">[], layers: readonly string[][]): RoutingChart[] {
  const withRouting = steps.filter((s) => s.routing.length > 0);
  if (withRouting.length === 0) return [];
  const rows = withRouting[withRouting.length - 1].routing.length;
  const labels = routingRows(layers, rows);
  const epochs = new Set(withRouting.map((s) => s.epoch)).size;
  const perEpoch = Math.min(Math.ceil(12 / epochs), withRouting[0].stepsPerEpoch);
  // Bucket key: epoch × perEpoch + part; x at the bucket's end.
  const bucketOf = (s: Of<"step">) => s.epoch * perEpoch + Math.floor((s.epochStep * perEpoch) / s.stepsPerEpoch);
  const buckets = new Map<number, Of<"step">[]>();
  for (const s of withRouting) {
    const k = bucketOf(s);
    if (!buckets.has(k)) buckets.set(k, []);
    buckets.get(k)!.push(s);
  }
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  return labels.map(({ label, modules }, r) => {
    const count = Math.max(modules.length, ...withRouting.map((s) => s.routing[r]?.length ?? 0));
    const series = Array.from({ length: count }, (_, m) => ({
      name: modules[m] ?? `module ${m}`,
      points: keys.map((k) => {
        const values = buckets
          .get(k)!
          .map((s) => s.routing[r]?.[m])
          .filter((v): v is number => Number.isFinite(v));
        return { x: (k + 1) / perEpoch, y: values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN };
      }),
    }));
    return { label, modules, series };
  });
}
