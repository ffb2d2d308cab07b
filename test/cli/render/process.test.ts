// The renderer in a real process: SIGINT stops after the step with a checkpoint
// and the resume command; a second SIGINT exits 130; a closed stdout pipe
// (`| head`) does not crash the run.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnFakeTrain } from "./fixtures/spawn.js";

const dir = mkdtempSync(join(tmpdir(), "sdfn-render-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the renderer in a process (plain mode)", () => {
  it("SIGINT stops after the current step: checkpoint written, resume command printed, exit 0", async () => {
    const out = join(dir, "sigint");
    const run = spawnFakeTrain(["--mode", "auto", "--out", out, "--delay", "30", "--steps", "400"]);
    await run.waitFor("step 1/400");
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    const lines = run.stdout().trimEnd().split("\n");
    expect(lines).toContain("stopping after the current step; a checkpoint follows (Ctrl-C again exits now)");
    expect(lines.at(-2)).toBe("resume with:");
    expect(lines.at(-1)).toBe(`sdfn build recipes/quickstart.yaml --resume ${join(out, "checkpoints", "interrupt")}`);
    expect(existsSync(join(out, "checkpoints", "interrupt.json"))).toBe(true);
    expect(run.stdout()).not.toContain(String.fromCharCode(27)); // CI set: plain lines, no escape codes
  });

  it("a second SIGINT exits at once with 130, without the interrupt checkpoint", async () => {
    const out = join(dir, "twice");
    const run = spawnFakeTrain(["--mode", "plain", "--out", out, "--delay", "1000", "--steps", "10"]);
    await run.waitFor("step 1/10");
    run.child.kill("SIGINT");
    await run.waitFor("stopping after the current step");
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(130);
    expect(run.stdout()).toContain("exiting now");
    expect(existsSync(join(out, "checkpoints", "interrupt.json"))).toBe(false);
  });

  for (const mode of ["plain", "json"])
    it(`a closed stdout pipe does not crash the run; it stops after the step with a checkpoint (${mode})`, async () => {
      const out = join(dir, `epipe-${mode}`);
      const run = spawnFakeTrain(["--mode", mode, "--out", out, "--delay", "5", "--steps", "1000", "--epochs", "1"]);
      await run.waitFor("\n");
      run.child.stdout.destroy(); // like `| head -1` exiting
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toBe("sdfn: stdout closed; stopping after the current step (a checkpoint follows)\n");
      expect(run.stderr()).not.toMatch(/EPIPE|Error/);
      expect(existsSync(join(out, "checkpoints", "interrupt.json"))).toBe(true);
    });
});
