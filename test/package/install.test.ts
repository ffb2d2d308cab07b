// sdfn as someone else's dependency, exactly as a user gets it: `npm pack` (its prepare step
// compiles dist/), the tarball installed into a fresh project whose own tsconfig sets other JSX
// options (tsx used to compile sdfn's dashboard with them: "React is not defined" on a terminal),
// then `npx sdfn build` on the quickstart from that project's folder, piped and in a real terminal
// (tmux); the package imports from plain Node and type-checks through its .d.ts. The install takes
// npm's cache first (filled by `npm ci`), the registry only for what the cache lacks.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TmuxSession } from "../cli/render/fixtures/tmux.js";
import { missing, ROOT } from "../support/requires.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-package-"));
const app = join(scratch, "app");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let session: TmuxSession | undefined;
afterEach(() => {
  session?.kill();
  session = undefined;
});

// The quickstart, small: a handful of steps and a 16-image gallery (seconds on any backend).
const SMALL = ["data.train_pairs=64", "data.test_references=4", "data.test_edits=4", "data.test_queries=16", "evaluation.recall_at=[1,5]"];
const buildArgs = (out: string) => ["sdfn", "build", "quickstart.yaml", "--out", out, ...SMALL.flatMap((s) => ["--set", s])];

const npm = (args: string[], cwd: string) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe.skipIf(missing("npm"))("sdfn installed from its tarball into another project", () => {
  beforeAll(() => {
    const packs = join(scratch, "packs");
    mkdirSync(packs);
    npm(["pack", "--pack-destination", packs], ROOT);
    const [tarball] = readdirSync(packs).filter((f) => f.endsWith(".tgz"));
    mkdirSync(app);
    // A CommonJS project (npm init's package.json) with classic JSX in its tsconfig.
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { jsx: "react", module: "nodenext", strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ["check.mts"] }));
    npm(["install", join(packs, tarball!), "--prefer-offline", "--no-audit", "--no-fund"], app);
    copyFileSync(join(app, "node_modules", "sdfn", "recipes", "quickstart.yaml"), join(app, "quickstart.yaml"));
  }, 300_000);

  it("ships compiled JavaScript and its declarations, not the TypeScript sources", () => {
    const pkg = join(app, "node_modules", "sdfn");
    expect(readdirSync(pkg).sort()).toEqual(["README.md", "bin", "dist", "native", "package.json", "recipes", "schemas"]);
    expect(readdirSync(join(pkg, "native")).sort()).toEqual(["README.md", "build.mjs", "src"]); // the addon's sources, not a build
    expect(existsSync(join(pkg, "dist", "cli", "render", "dashboard.js"))).toBe(true);
    expect(existsSync(join(pkg, "dist", "index.d.ts"))).toBe(true);
  });

  it("npx sdfn build quickstart.yaml, piped: plain lines, a run directory, exit 0", () => {
    const r = spawnSync("npx", buildArgs("runs/piped"), { cwd: app, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^epoch 1\/1 step 4\/4 · loss /m);
    expect(r.stdout).toContain(`report: ${join(app, "runs", "piped", "report.html")}\n`);
    expect(JSON.parse(readFileSync(join(app, "runs", "piped", "summary.json"), "utf8"))).toMatchObject({ status: "completed", epochs: 1, steps: 4 });
  });

  it.skipIf(missing("tmux"))("npx sdfn build quickstart.yaml in a terminal: the dashboard draws, exit 0", async () => {
    const command = buildArgs("runs/tty").map((a) => `'${a}'`).join(" ");
    session = new TmuxSession(`npx ${command}`, { cwd: app, columns: 120, rows: 40, scratch });
    const code = await session.exitCode(120_000);
    const history = session.history();
    expect(history).not.toContain("React is not defined");
    expect(code, history).toBe(0);
    expect(history).toMatch(/Losses \(weighted; last \d+ steps\)/); // Ink's panels, drawn from the compiled dashboard
    expect(history).toContain(`report: ${join(app, "runs", "tty", "report.html")}`);
    expect(existsSync(join(app, "runs", "tty", "checkpoints", "last", "manifest.json"))).toBe(true);
  });

  it.skipIf(missing("addon"))(
    "builds its torch addon where npm installed it (`npm explore sdfn -- npm run build:native`, as doctor says) and trains on it",
    () => {
      const before = JSON.parse(spawnSync("npx", ["sdfn", "doctor", "--json"], { cwd: app, encoding: "utf8" }).stdout) as { backends: { name: string; why?: string }[] };
      expect(before.backends.find((b) => b.name === "torch")?.why).toContain("`npm explore sdfn -- npm run build:native`");
      const build = spawnSync("npm", ["explore", "sdfn", "--", "npm", "run", "build:native"], { cwd: app, encoding: "utf8" });
      expect(build.status, `${build.stdout}${build.stderr}`.slice(-3000)).toBe(0);
      expect(existsSync(join(app, "node_modules", "sdfn", "native", "build", "sdfn_torch.node"))).toBe(true);
      const r = spawnSync("npx", [...buildArgs("runs/torch"), "--backend", "torch"], { cwd: app, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(app, "runs", "torch", "summary.json"), "utf8"))).toMatchObject({ status: "completed", backend: "torch" });
    },
    600_000,
  );

  it("plain Node imports it (ESM), and TypeScript reads its types", () => {
    const script = 'import { loadRecipe } from "sdfn"; const r = await loadRecipe("quickstart.yaml"); console.log(r.recipe.name, r.recipe.training.epochs);';
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: app, encoding: "utf8" })).toBe("quickstart 1\n");
    // The types are real, not `any`: one deliberate mistake is the only error.
    writeFileSync(
      join(app, "check.mts"),
      'import { loadRecipe, type Recipe } from "sdfn";\nconst recipe: Recipe = (await loadRecipe("quickstart.yaml")).recipe;\nconst epochs: string = recipe.training.epochs;\n',
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", app], { cwd: app, encoding: "utf8" });
    expect(tsc.stdout.trim()).toBe("check.mts(3,7): error TS2322: Type 'number' is not assignable to type 'string'.");
  });
});
