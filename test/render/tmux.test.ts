// End to end in a real terminal (tmux): the live dashboard shows its panels,
// `q` stops after the current step with a checkpoint, prints the resume
// command, and exits 0.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FAKE_TRAIN, ROOT } from "./fixtures/spawn.js";
import { TmuxSession } from "./fixtures/tmux.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-tmux-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let session: TmuxSession | undefined;
afterEach(() => session?.kill());

const PANELS = ["Losses", "Routing", "Evaluation", "Messages"];

describe("the dashboard in tmux", () => {
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
