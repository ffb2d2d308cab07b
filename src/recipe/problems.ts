// Recipe problems: where (file, line, col) and what. A RecipeError carries every
// problem found in one run; the CLI prints them as `FILE:LINE:COL: error: MESSAGE`.

/** One thing wrong with a recipe. line/col are 1-based; 0 when the place is not in a file (e.g. a `--set`). */
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
  /** A namespaced name (acme/GatedSum) no registered declaration has: its plugin was not run, or does not register it. */
  unregistered?: string;
}

/** Every problem of a recipe, sorted by place. */
export class RecipeError extends Error {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    const sorted = sortProblems(problems);
    super(sorted.map(formatProblem).join("\n"));
    this.name = "RecipeError";
    this.problems = sorted;
  }
}

/** `FILE:LINE:COL: error: MESSAGE`, or `FILE: error: MESSAGE` when there is no position. */
export function formatProblem(p: Problem): string {
  return p.line > 0 ? `${p.file}:${p.line}:${p.col}: error: ${p.message}` : `${p.file}: error: ${p.message}`;
}

function sortProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = formatProblem(p);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  // Positioned problems first (by file, line, col), then those from the command line, in order.
  return unique
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const pa = a.p.line > 0 ? 0 : 1;
      const pb = b.p.line > 0 ? 0 : 1;
      if (pa !== pb) return pa - pb;
      if (pa === 1) return a.i - b.i;
      return a.p.file.localeCompare(b.p.file) || a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i;
    })
    .map(({ p }) => p);
}
