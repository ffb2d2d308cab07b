// The gallery of report.html and `sdfn query --html`: per example query, the reference
// image and text, the top K retrieved images (the true target outlined), the target's rank
// and the routing path (each layer's distributions as a heat grid, the output weights w).
import type { RetrievalExample } from "../eval/gallery.js";
import type { GalleryFile } from "../run/gallery.js";
import { escapeHtml, STYLE } from "./page.js";

export const GALLERY_STYLE = `
.examples { display: flex; flex-direction: column; gap: 14px; margin-top: 10px; }
.example { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; border: 1px solid #dde3ea; border-left: 4px solid #59a14f; border-radius: 6px; padding: 10px; }
.example.miss { border-left-color: #e15759; }
.example figure { margin: 0; text-align: center; font-size: 11px; color: #5b6675; }
.example img { width: 96px; height: 96px; object-fit: contain; image-rendering: pixelated; border: 3px solid transparent; border-radius: 4px; background: #f6f8fa; }
.example figure.target img { border-color: #59a14f; }
.example .query { max-width: 190px; }
.example .query .text { font-size: 13px; color: #1d2430; margin-top: 4px; }
.example .results { display: flex; gap: 6px; }
.example .path table { margin: 0; font-size: 11px; } .example .path td, .example .path th { padding: 1px 4px; border: 0; }
.example .path td.w { min-width: 26px; text-align: center; }
`;

/** A cell shaded by its weight (0 … 1). */
const heat = (v: number) =>
  `<td class="w" style="background: rgba(78,121,167,${(0.15 + 0.85 * v).toFixed(2)}); color: ${v > 0.45 ? "#fff" : "#1d2430"}" title="${v.toFixed(3)}">${v.toFixed(2)}</td>`;

/** Layer l's distributions (M, R): a grid sender → receiver, or for the last layer one column w. */
function pathTable(layer: number[][], senders: string[], receivers: string[] | null, title: string): string {
  const head = receivers ? `<tr><th>${escapeHtml(title)}</th>${receivers.map((r) => `<th>${escapeHtml(r)}</th>`).join("")}</tr>` : `<tr><th colspan="2">${escapeHtml(title)}</th></tr>`;
  const rows = layer.map((row, i) => `<tr><th>${escapeHtml(senders[i] ?? String(i))}</th>${row.map(heat).join("")}</tr>`);
  return `<table>${head}${rows.join("")}</table>`;
}

export function pathHtml(paths: number[][][], layers: string[][]): string {
  const last = paths.length - 1;
  const tables = paths.map((layer, l) =>
    l === last ? pathTable(layer, layers[l] ?? [], null, "output w") : pathTable(layer, layers[l] ?? [], layers[l + 1] ?? [], `${l + 1} → ${l + 2}`),
  );
  return `<div class="path">${tables.join("")}</div>`;
}

const figure = (src: string | undefined, caption: string, cls = "") =>
  `<figure${cls ? ` class="${cls}"` : ""}>${src ? `<img src="${src}" alt="">` : `<img alt="">`}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;

export function exampleHtml(e: RetrievalExample, images: Record<string, string>, layers: string[][], k: number): string {
  const hit = e.rank !== null && e.rank < k;
  const rank = e.rank !== null ? `target at rank ${e.rank + 1}` : e.targets.length ? `target not in the top ${k}` : "no known target";
  const results = e.top.map((t, i) => figure(images[t.id], `#${i + 1} ${t.score.toFixed(3)}${t.hit ? " ✓" : ""}`, t.hit ? "target" : ""));
  if (!hit) for (const id of e.targets.slice(0, 1)) results.push(figure(images[id], `target (${e.rank === null ? `not in the top ${k}` : `rank ${e.rank + 1}`})`, "target"));
  return (
    `<div class="example ${hit ? "hit" : "miss"}">` +
    `<div class="query">${figure(images[e.reference], `reference ${e.reference}`)}<div class="text">“${escapeHtml(e.text)}”</div><div class="note">${escapeHtml(`${e.set}: ${rank}`)}</div></div>` +
    `<div class="results">${results.join("")}</div>` +
    (e.paths.length ? pathHtml(e.paths, layers) : "") +
    `</div>`
  );
}

/** The report's section: hits first, then misses; empty without a gallery. */
export function gallerySection(gallery: GalleryFile | undefined): string {
  if (!gallery || gallery.examples.length === 0) return "";
  const items = gallery.examples.map((e) => exampleHtml(e, gallery.images, gallery.layers, gallery.k));
  return (
    `<h2>Retrievals</h2><p class="note">Example queries of the evaluation set (the weights at the end of training): the reference and its text, ` +
    `the top ${gallery.k} gallery images (the true target outlined), and the routing path — each layer's distributions, then the output weights.</p>` +
    `<div class="examples">${items.join("")}</div>`
  );
}

/** A page of its own (`sdfn query --html`): the examples with the report's styles, one file. */
export function galleryPage(title: string, gallery: GalleryFile): string {
  const items = gallery.examples.map((e) => exampleHtml(e, gallery.images, gallery.layers, gallery.k));
  return [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title><style>${STYLE}${GALLERY_STYLE}</style></head>`,
    `<body><main><h1>${escapeHtml(title)}</h1><div class="examples">${items.join("")}</div>`,
    `<p class="note">Written by <code>sdfn query --html</code>.</p></main></body></html>`,
    "",
  ].join("\n");
}
