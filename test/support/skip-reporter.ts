// Ends a test run with one line naming the optional parts that were missing, how many tests
// each one skipped, and the command that enables it (records written by test/support/requires.ts).
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";
import { PARTS, ROOT, type PartName } from "./requires.js";

interface SkipRecord {
  part: PartName;
  file: string;
}

function readRecords(dir: string): SkipRecord[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith("skips-"))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean))
    .map((line) => JSON.parse(line) as SkipRecord);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "skipped 18 tests: python3-torch (12 tests in 3 files; enable: …); tmux (…)", or undefined when nothing was. */
export function skipLine(records: SkipRecord[], skippedIn: (file: string) => number): string | undefined {
  if (records.length === 0) return undefined;
  const filesByPart = new Map<PartName, Set<string>>();
  for (const r of records) filesByPart.set(r.part, (filesByPart.get(r.part) ?? new Set()).add(r.file));
  const allFiles = new Set(records.map((r) => r.file));
  const total = [...allFiles].reduce((n, f) => n + skippedIn(f), 0);
  const parts = [...filesByPart].map(([part, files]) => {
    const tests = [...files].reduce((n, f) => n + skippedIn(f), 0);
    const names = [...files].map((f) => relative(ROOT, f)).join(", ");
    return `${PARTS[part].label} (${plural(tests, "test")} in ${names}; enable: ${PARTS[part].enable})`;
  });
  return `skipped ${plural(total, "test")} for missing optional parts — ${parts.join("; ")}`;
}

export default class SkipReporter implements Reporter {
  private readonly dir = process.env.SDFN_TEST_STATE;

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (!this.dir) return;
    const skipped = new Map(modules.map((m) => [m.moduleId, [...m.children.allTests("skipped")].length]));
    const line = skipLine(readRecords(this.dir), (file) => skipped.get(file) ?? 0);
    rmSync(this.dir, { recursive: true, force: true });
    if (line) process.stdout.write(`\n${line}\n`);
  }
}
