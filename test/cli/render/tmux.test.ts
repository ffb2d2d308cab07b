// End to end in a real terminal (tmux): the live dashboard shows its panels,
// `q` stops after the current step with a checkpoint, prints the resume
// command, and exits 0 — with the real quickstart (`sdfn build`), and with the
// synthetic trainer (exact resume line, fast).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FAKE_TRAIN, ROOT } from "./fixtures/spawn.js";
import { TmuxSession } from "./fixtures/tmux.js";
import { missing } from "../../support/requires.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-tmux-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let session: TmuxSession | undefined;
afterEach(() => session?.kill());

const PANELS = ["Losses", "Routing", "Evaluation", "Messages"];

describe.skipIf(missing("tmux"))("the dashboard in tmux", () => {
  it("sdfn build recipes/quickstart.yaml: live panels; q stops with a checkpoint and exit code 0", async () => {
    const out = join(scratch, "quickstart");
    // A smaller quickstart (fewer pairs, batch 8) so the steps come quickly; 3 epochs so q lands mid-run.
    const sets = ["training.epochs=3", "training.batch_size=8", "data.train_pairs=400"].map((s) => `--set ${s}`).join(" ");
    session = new TmuxSession(`node bin/sdfn.js build recipes/quickstart.yaml --out '${out}' ${sets}`, {
      cwd: ROOT,
      columns: 100,
      rows: 30,
      scratch,
    });
    const live = await session.waitForScreen(
      (s) => PANELS.every((p) => s.includes(p)) && /step (?:[2-9]|\d{2,})\/\d+ /.test(s),
      120_000,
      "live dashboard after the second step",
    );
    expect(live).toMatch(/quickstart · (?:cpu|torch|wasm) \(cpu\) · [\d.]+k params/); // backend: auto
    expect(live).toMatch(/into L2 +JRM .* 0\.\d\d +CAM/); // routing bars
    session.keys("q");
    expect(await session.exitCode(90_000)).toBe(0);
    expect(existsSync(join(out, "checkpoints", "last", "meta.json"))).toBe(true);
    const lines = session.history().trimEnd().split("\n");
    const at = lines.indexOf("resume with:");
    expect(at, session.history()).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(new RegExp(`^npx sdfn build recipes/quickstart.yaml .*--resume ${out}$`)); // runs where it is printed
  }, 240_000);

  it("shows the live panels; q stops with a checkpoint, the resume command and exit code 0", async () => {
    const out = join(scratch, "run");
    session = new TmuxSession(`node --import tsx '${FAKE_TRAIN}' --out '${out}' --delay 100 --steps 400`, {
      cwd: ROOT,
      columns: 100,
      rows: 30,
      scratch,
    });
    const live = await session.waitForScreen(
      (s) => PANELS.every((p) => s.includes(p)) && /step \d+\/400/.test(s),
      60_000,
      "live dashboard",
    );
    expect(live).toContain("sdfn-synthetic · cpu (cpu) · 1.23M params");
    expect(live).toContain("q: stop after this step");
    session.keys("q");
    expect(await session.exitCode(60_000)).toBe(0);
    expect(existsSync(join(out, "checkpoints", "interrupt.json"))).toBe(true);
    const lines = session.history().trimEnd().split("\n");
    const at = lines.indexOf("resume with:");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe(`sdfn build recipes/quickstart.yaml --resume ${join(out, "checkpoints", "interrupt")}`);
  });
});
