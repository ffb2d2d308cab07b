// TensorBoard event files: the bytes sdfn writes, read back by an independent reader
// (test/run/read_tfevents.py: hand-written TFRecord + CRC-32C + protobuf wire decoding).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { crc32c, maskedCrc32c } from "../../src/io/tfrecord.js";
import { tensorboardSink } from "../../src/run/tensorboard.js";
import type { RunInfo, TrainEvent } from "../../src/train/events.js";
import { missing, PYTHON } from "../support/requires.js";

const READER = join(import.meta.dirname, "read_tfevents.py");
const work = mkdtempSync(join(tmpdir(), "sdfn-tb-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Decoded {
  step: number;
  wall_time: number;
  file_version?: string;
  values?: Record<string, number>;
}

function read(file: string): { status: number | null; events: Decoded[]; stderr: string } {
  const r = spawnSync(PYTHON, [READER, file], { encoding: "utf8" });
  return { status: r.status, events: r.status === 0 ? (JSON.parse(r.stdout) as Decoded[]) : [], stderr: r.stderr };
}

const info: RunInfo = {
  recipeName: "tb",
  runDir: work,
  backend: "cpu",
  device: "cpu",
  parameters: 10,
  epochs: 2,
  stepsPerEpoch: 2,
  batchSize: 4,
  layers: [["JRM", "GTM"], ["JRM", "GTM"]],
  losses: ["batch_classification", "consistency"],
  startEpoch: 0,
};
const T0 = 1_764_600_000_000; // ms
const step = (s: number, total: number): TrainEvent => ({
  type: "step",
  time: T0 + 1000 * (s + 1),
  epoch: Math.floor(s / 2),
  step: s,
  epochStep: s % 2,
  stepsPerEpoch: 2,
  losses: { batch_classification: total - 0.25, consistency: 0.25 },
  total,
  lr: 0.001 / (s + 1),
  samplesPerSec: 100 + s,
  routing: [
    [0.75, 0.25], // layer 2's incoming weights
    [0.375, 0.625], // output weights w
  ],
});
const run: TrainEvent[] = [
  { type: "start", time: T0, info },
  step(0, 2.5),
  step(1, 2),
  { type: "epoch", time: T0 + 2500, epoch: 0, losses: { batch_classification: 2, consistency: 0.25 }, seconds: 2, samplesPerSec: 4 },
  { type: "evaluation", time: T0 + 3000, epoch: 0, metrics: { "dress/R@10": 12.5, "avg/R@10": 12.5 }, primary: { name: "avg/R@10", value: 12.5 }, best: true },
  { type: "end", time: T0 + 4000, summary: {} },
];

describe("CRC-32C", () => {
  it("gives the standard check value and TensorFlow's mask", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283); // the CRC-32C catalogue's check value
    const crc = 0xe3069283;
    expect(maskedCrc32c(new TextEncoder().encode("123456789"))).toBe((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });
});

describe.skipIf(missing("pythonTorch"))("the event file, read by an independent reader", () => {
  const dir = join(work, "run");
  const seen: TrainEvent[] = [];
  const sink = tensorboardSink(dir, (e) => seen.push(e));
  for (const e of run) sink(e);
  const files = readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents."));

  it("is one file named as TensorFlow names them, and every event reaches the next sink", () => {
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.1764600000\.[^.]+\.\d+\.0$/);
    expect(seen).toEqual(run);
  });

  it("holds the version record, then each step's losses, lr, samples/s and routing, the epoch's and the evaluation's scalars", () => {
    const r = read(join(dir, files[0]!));
    expect(r.status, r.stderr).toBe(0);
    const [version, s0, s1, epoch, evaluation, ...rest] = r.events;
    expect(rest).toEqual([]);
    expect(version).toEqual({ step: 0, wall_time: T0 / 1000, file_version: "brain.Event:2" });
    expect(s0!.step).toBe(0);
    expect(s0!.wall_time).toBe(T0 / 1000 + 1);
    expect(s0!.values).toEqual({
      "loss/total": 2.5,
      lr: Math.fround(0.001),
      samples_per_sec: 100,
      "loss/batch_classification": 2.25,
      "loss/consistency": 0.25,
      "routing/layer2_in/0_JRM": 0.75,
      "routing/layer2_in/1_GTM": 0.25,
      "routing/output/0_JRM": 0.375,
      "routing/output/1_GTM": 0.625,
    });
    expect(s1!.step).toBe(1);
    expect(s1!.values!["lr"]).toBe(Math.fround(0.0005));
    expect(epoch).toMatchObject({ step: 2, values: { "epoch/loss/batch_classification": 2, "epoch/samples_per_sec": 4, "epoch/seconds": 2 } });
    expect(evaluation).toMatchObject({ step: 2, wall_time: T0 / 1000 + 3, values: { "eval/dress/R@10": 12.5, "eval/avg/R@10": 12.5 } });
  });

  it("the reader notices one flipped byte (the test can fail)", () => {
    const bytes = readFileSync(join(dir, files[0]!));
    bytes[bytes.length - 10] ^= 0x01;
    const bad = join(work, "flipped.tfevents");
    writeFileSync(bad, bytes);
    const r = read(bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/data CRC mismatch/);
  });

  it("a resumed run starts a new file whose steps continue", () => {
    const resumed = join(work, "resumed");
    const next = tensorboardSink(resumed, () => {});
    next({ type: "start", time: T0 + 60_000, info: { ...info, startEpoch: 1 } });
    next({ type: "evaluation", time: T0 + 61_000, epoch: 1, metrics: { "avg/R@10": 20 }, primary: { name: "avg/R@10", value: 20 }, best: true });
    const [file] = readdirSync(resumed);
    const r = read(join(resumed, file!));
    expect(r.events[1]).toMatchObject({ step: 2, values: { "eval/avg/R@10": 20 } });
  });
});
