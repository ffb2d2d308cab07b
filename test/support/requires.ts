// Optional parts some tests need (native addon, python3-torch, chromium, tmux, npm, the real annotation
// files): `describe.skipIf(missing("addon"))(…)` skips with the reason recorded for the end-of-run
// line (test/support/skip-reporter.ts); under SDFN_REQUIRE_ALL=1 (CI) a missing part fails instead.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { loadAddon } from "../../src/backend/torch/native.js";
import { distAbsence } from "../../src/dist/native.js";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../..");
/** Debian's python3 has torch; the `python3` on PATH may not. SDFN_PYTHON picks another. */
export const PYTHON = process.env.SDFN_PYTHON ?? "/usr/bin/python3";
/** The real annotation files (fashioniq/captions, shoes/…): SDFN_SHARED_DATA, else ../shared/data beside the clone. */
export const SHARED_DATA = resolve(process.env.SDFN_SHARED_DATA ?? join(ROOT, "..", "shared", "data"));

const INSTALL = "sudo scripts/install-system-deps.sh";

interface Part {
  /** What the part is, as the skip line names it. */
  label: string;
  /** The command (or setting) that makes it available. */
  enable: string;
  /** Undefined when present, else why it is not. */
  probe(): string | undefined;
}

const onPath = (program: string): string | undefined =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, program)))
    ? undefined
    : `${program} is not on PATH`;

export const PARTS = {
  addon: {
    label: "native addon",
    enable: "npm run build:native (needs libtorch-dev g++: " + INSTALL + ")",
    probe: () => {
      const r = loadAddon();
      return "error" in r ? r.error : undefined;
    },
  },
  distributed: {
    label: "c10d Gloo in the native addon (multi-process training)",
    enable: "libgloo-dev (" + INSTALL + "), then npm run build:native",
    probe: () => distAbsence(),
  },
  pythonTorch: {
    label: "python3-torch",
    enable: INSTALL + " (or SDFN_PYTHON=/path/to/python with torch and numpy)",
    probe: () => {
      const r = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
      if (r.error) return `${PYTHON} did not start (${r.error.message})`;
      return r.status === 0 ? undefined : `${PYTHON} cannot import torch and numpy`;
    },
  },
  torchvision: {
    label: "python3-torchvision",
    enable: INSTALL + " (writes real torchvision weight files for the .pth reader's tests)",
    probe: () => {
      const r = spawnSync(PYTHON, ["-c", "import torch, torchvision"], { encoding: "utf8" });
      if (r.error) return `${PYTHON} did not start (${r.error.message})`;
      return r.status === 0 ? undefined : `${PYTHON} cannot import torchvision`;
    },
  },
  chromium: { label: "chromium", enable: INSTALL, probe: () => onPath("chromium") },
  tmux: { label: "tmux", enable: INSTALL, probe: () => onPath("tmux") },
  npm: { label: "npm", enable: "npm (it comes with Node; scripts/test-node-only.sh hides it)", probe: () => onPath("npm") },
  sharedData: {
    label: "real annotation files",
    enable: "SDFN_SHARED_DATA=DIR (a folder with fashioniq/captions and shoes/relative_captions_shoes.json)",
    probe: () =>
      existsSync(join(SHARED_DATA, "fashioniq", "captions")) && existsSync(join(SHARED_DATA, "shoes", "relative_captions_shoes.json"))
        ? undefined
        : `no fashioniq/captions and shoes/relative_captions_shoes.json under ${SHARED_DATA}`,
  },
} satisfies Record<string, Part>;

export type PartName = keyof typeof PARTS;

/** Where the run keeps probe results and skip records (set by vitest.config.ts; absent outside vitest). */
const stateDir = process.env.SDFN_TEST_STATE;
const probed = new Map<PartName, string | undefined>();

/** Why `name` is absent, or undefined; probed once per test run (cached in the state folder). */
export function absence(name: PartName): string | undefined {
  if (probed.has(name)) return probed.get(name);
  const cache = stateDir && join(stateDir, `probe-${name}.json`);
  let why: string | undefined;
  if (cache && existsSync(cache) && name !== "addon") {
    why = (JSON.parse(readFileSync(cache, "utf8")) as { why?: string }).why;
  } else {
    why = PARTS[name].probe();
    if (cache) {
      mkdirSync(stateDir!, { recursive: true });
      writeFileSync(`${cache}.${process.pid}`, JSON.stringify({ why }));
      renameSync(`${cache}.${process.pid}`, cache); // atomic: a parallel file reads all or nothing
    }
  }
  probed.set(name, why);
  return why;
}

/** Where `missing` was called from: the first stack frame outside this file. */
function callSite(): { file: string; line?: number } {
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  for (const frame of frames) {
    const m = /(?:file:\/\/)?(\/[^:()]+\.tsx?):(\d+):\d+/.exec(frame);
    if (m && m[1] !== import.meta.filename) return { file: m[1]!, line: Number(m[2]) };
  }
  return { file: "unknown" };
}

/**
 * True when any of `names` is absent: pass it to `describe.skipIf` / `it.skipIf`. The skip is
 * recorded with its reason for the end-of-run line. With SDFN_REQUIRE_ALL=1 an absent part
 * throws instead, so CI fails rather than skipping.
 */
export function missing(...names: PartName[]): boolean {
  const absent = names.filter((n) => absence(n) !== undefined);
  if (absent.length === 0) return false;
  const reasons = absent.map((n) => `${PARTS[n].label}: ${absence(n)} (enable: ${PARTS[n].enable})`);
  if (process.env.SDFN_REQUIRE_ALL === "1") {
    throw new Error(`SDFN_REQUIRE_ALL=1 and a part this test needs is missing — ${reasons.join("; ")}`);
  }
  if (stateDir) {
    mkdirSync(stateDir, { recursive: true });
    const site = callSite();
    const lines = absent.map((n) => JSON.stringify({ part: n, ...site }) + "\n").join("");
    appendFileSync(join(stateDir, `skips-${process.pid}.jsonl`), lines);
  }
  return true;
}
