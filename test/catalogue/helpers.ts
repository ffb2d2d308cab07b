// Shared by the index, serve and library tests: a tiny trained run (seconds on cpu) and a folder
// of small photos (PNG/JPEG with coloured squares), all under one scratch directory.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { loadRecipe } from "../../src/recipe/index.js";
import { train } from "../../src/run/train.js";
import { ROOT } from "../support/cli.js";

/** Trains test/train/fixtures/tiny.yaml (2 epochs of 20 pairs, cpu) into `dir`; `seed` makes another run. */
export async function trainTiny(dir: string, seed?: number): Promise<string> {
  const loaded = await loadRecipe(join(ROOT, "test/train/fixtures/tiny.yaml"), seed === undefined ? {} : { sets: [`seed=${seed}`] });
  await train(loaded, { outDir: dir, onEvent: () => {} });
  return dir;
}

/** A 40×32 image: a coloured square on a grey background, as PNG or JPEG bytes. */
export function photo(i: number, format: "png" | "jpeg" = "png"): Promise<Buffer> {
  const colour = { r: (i * 67) % 256, g: (i * 131) % 256, b: (i * 29) % 256 };
  const square = sharp({ create: { width: 12, height: 12, channels: 3, background: colour } }).png();
  return square.toBuffer().then((sq) =>
    sharp({ create: { width: 40, height: 32, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite([{ input: sq, left: (i * 7) % 28, top: (i * 5) % 20 }])
      [format]()
      .toBuffer(),
  );
}

/** Writes `count` photos (from number `from` on) into `dir` as photo-NN.png (every third a JPEG in sub/). */
export async function writePhotos(dir: string, count: number, from = 0): Promise<string[]> {
  const { writeFileSync } = await import("node:fs");
  mkdirSync(join(dir, "sub"), { recursive: true });
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const id = i % 3 === 2 ? `sub/photo-${String(i).padStart(2, "0")}.jpg` : `photo-${String(i).padStart(2, "0")}.png`;
    writeFileSync(join(dir, id), await photo(i, id.endsWith(".jpg") ? "jpeg" : "png"));
    ids.push(id);
  }
  return ids;
}
