// Renders a scene to RGB bytes (size, size, 3): each shape centred in its grid
// cell on a dark background, 3×3 supersampled so small shapes keep their outline.
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

function drawObject(out: Float32Array, size: number, grid: number, o: Obj): void {
  const cell = size / grid;
  const cx = ((o.cell % grid) + 0.5) * cell;
  const cy = (Math.floor(o.cell / grid) + 0.5) * cell;
  const r = RADIUS[o.size]! * cell;
  const color = PALETTE[o.color]!;
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
      if (hits === 0) continue;
      const a = hits / (SAMPLES * SAMPLES);
      const i = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[i + c] = out[i + c]! * (1 - a) + color[c]! * a;
    }
  }
}

/** Scene → RGB bytes, row-major (size, size, 3). */
export function renderScene(scene: Scene, size: number, grid: number): Uint8Array {
  const canvas = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) canvas.set(BACKGROUND, i * 3);
  for (const o of scene) drawObject(canvas, size, grid, o);
  return Uint8Array.from(canvas, (v) => Math.round(v));
}
