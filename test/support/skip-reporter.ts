// Ends a test run with one line naming the optional parts that were missing, how many tests
// each one skipped, and the command that enables it (records written by test/support/requires.ts).
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";
import { PARTS, ROOT, type PartName } from "./requires.js";

export interface SkipRecord {
  part: PartName;
  file: string;
  /** The line of the `missing(…)` call: a describe/it there is what it skips, else the whole file. */
  line?: number;
}

function readRecords(dir: string): SkipRecord[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith("skips-"))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean))
    .map((line) => JSON.parse(line) as SkipRecord);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "skipped 18 tests …: python3-torch (12 tests in a.test.ts, b.test.ts; enable: …); …", or undefined when nothing was. */
export function skipLine(records: SkipRecord[], skippedBy: (r: SkipRecord) => string[]): string | undefined {
  if (records.length === 0) return undefined;
  const byPart = new Map<PartName, { files: Set<string>; tests: Set<string> }>();
  for (const r of records) {
    const entry = byPart.get(r.part) ?? { files: new Set(), tests: new Set() };
    entry.files.add(r.file);
    for (const id of skippedBy(r)) entry.tests.add(id);
    byPart.set(r.part, entry);
  }
  const total = new Set([...byPart.values()].flatMap((e) => [...e.tests])).size;
  const parts = [...byPart].map(([part, { files, tests }]) => {
    const names = [...files].map((f) => relative(ROOT, f)).join(", ");
    return `${PARTS[part].label} (${plural(tests.size, "test")} in ${names}; enable: ${PARTS[part].enable})`;
  });
  return `skipped ${plural(total, "test")} for missing optional parts — ${parts.join("; ")}`;
}

/** The skipped tests a record stands for: those of the describe/it at its line, else all of its file's. */
function skippedTests(modules: ReadonlyArray<TestModule>, r: SkipRecord): string[] {
  const module = modules.find((m) => m.moduleId === r.file);
  if (!module) return [];
  const ids = (tasks: Iterable<TestCase>) => [...tasks].filter((t) => t.result().state === "skipped").map((t) => t.id);
  for (const child of module.children.allSuites()) {
    if (child.location?.line === r.line) return ids(child.children.allTests());
  }
  const test = [...module.children.allTests()].find((t) => t.location?.line === r.line);
  return test ? ids([test]) : ids(module.children.allTests());
}

export default class SkipReporter implements Reporter {
  private readonly dir = process.env.SDFN_TEST_STATE;

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (!this.dir) return;
    const line = skipLine(readRecords(this.dir), (r) => skippedTests(modules, r));
    rmSync(this.dir, { recursive: true, force: true });
    if (line) process.stdout.write(`\n${line}\n`);
  }
}
