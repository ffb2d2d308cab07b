// Renders a scene to RGB bytes (size, size, 3): each shape centred in its grid
// cell on a dark background, 3×3 supersampled so small shapes keep their outline;
// the coverage of each (shape, size, cell) is computed once.
import type { Obj, Scene } from "./scene.js";

const BACKGROUND = [40, 40, 40];
const PALETTE = [
  [220, 40, 40], // red
  [40, 180, 60], // green
  [50, 90, 230], // blue
  [235, 210, 40], // yellow
  [160, 60, 200], // purple
  [245, 140, 30], // orange
];
const RADIUS = [0.26, 0.42]; // small, large, as a fraction of the cell side
const SAMPLES = 3;

/** Is (dx, dy), in units of the shape's radius, inside shape `kind`? */
function inside(kind: number, dx: number, dy: number): boolean {
  switch (kind) {
    case 0: // circle
      return dx * dx + dy * dy <= 1;
    case 1: // square
      return Math.abs(dx) <= 0.85 && Math.abs(dy) <= 0.85;
    case 2: // triangle, apex up
      return dy >= -0.95 && dy <= 0.8 && Math.abs(dx) <= ((dy + 0.95) / 1.75) * 0.98;
    default: // cross
      return (Math.abs(dx) <= 0.3 && Math.abs(dy) <= 0.95) || (Math.abs(dy) <= 0.3 && Math.abs(dx) <= 0.95);
  }
}

/** Pixels an object covers and how much (3×3 supersampled), per (image size, grid, shape, size, cell). */
interface Coverage {
  pixels: Int32Array; // pixel indices y * size + x
  alpha: Float32Array; // covered fraction in (0, 1]
}
const coverages = new Map<string, Coverage>();

function coverage(size: number, grid: number, o: Obj): Coverage {
  const key = `${size}|${grid}|${o.shape}|${o.size}|${o.cell}`;
  const known = coverages.get(key);
  if (known) return known;
  const cell = size / grid;
  const cx = ((o.cell % grid) + 0.5) * cell;
  const cy = (Math.floor(o.cell / grid) + 0.5) * cell;
  const r = RADIUS[o.size]! * cell;
  const pixels: number[] = [];
  const alpha: number[] = [];
  for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(size, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(size, Math.ceil(cx + r)); x++) {
      let hits = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const px = x + (sx + 0.5) / SAMPLES;
          const py = y + (sy + 0.5) / SAMPLES;
          if (inside(o.shape, (px - cx) / r, (py - cy) / r)) hits++;
        }
      }
      if (hits > 0) {
        pixels.push(y * size + x);
        alpha.push(hits / (SAMPLES * SAMPLES));
      }
    }
  }
  const c = { pixels: Int32Array.from(pixels), alpha: Float32Array.from(alpha) };
  coverages.set(key, c);
  return c;
}

const backgrounds = new Map<number, Uint8Array>();

/** Scene → RGB bytes, row-major (size, size, 3). Shapes sit in separate cells, so they never overlap. */
export function renderScene(scene: Scene, size: number, grid: number): Uint8Array {
  let background = backgrounds.get(size);
  if (!background) {
    background = new Uint8Array(size * size * 3);
    for (let i = 0; i < background.length; i += 3) background.set(BACKGROUND, i);
    backgrounds.set(size, background);
  }
  const out = background.slice();
  for (const o of scene) {
    const { pixels, alpha } = coverage(size, grid, o);
    const color = PALETTE[o.color]!;
    for (let k = 0; k < pixels.length; k++) {
      const i = pixels[k]! * 3;
      const a = alpha[k]!;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(out[i + c]! * (1 - a) + color[c]! * a);
    }
  }
  return out;
}
