// The web page of `sdfn serve`, one self-contained HTML file (no script or style from elsewhere):
// pick a catalogue item or drop a photo, type the modification, see the top K with scores and the
// query's routing path drawn per fusion layer. It calls the server's own JSON API (app.ts).

export interface PageOptions {
  title: string;
  /** Catalogue items. */
  count: number;
  /** Module names per fusion layer. */
  layers: string[][];
  maxWords: number;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { padding: 10px 20px; background: #263238; color: #fff; }
header small { opacity: .7; margin-left: 8px; }
main { display: grid; grid-template-columns: 360px 1fr; gap: 20px; padding: 20px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px; }
h2 { font-size: 15px; margin: 0 0 8px; }
.tabs button { border: 1px solid #bbb; background: #eee; padding: 4px 10px; cursor: pointer; }
.tabs button.on { background: #263238; color: #fff; }
#picker { display: grid; grid-template-columns: repeat(5, 1fr); gap: 4px; max-height: 300px; overflow: auto; margin-top: 6px; }
#picker img { width: 100%; cursor: pointer; border: 2px solid transparent; image-rendering: pixelated; }
#picker img.on { border-color: #e53935; }
#drop { border: 2px dashed #999; border-radius: 6px; padding: 16px; text-align: center; color: #666; margin-top: 6px; }
#drop.over { background: #e3f2fd; }
#reference { margin-top: 8px; min-height: 40px; }
#reference img { width: 96px; image-rendering: pixelated; vertical-align: middle; margin-right: 8px; }
label { display: block; margin-top: 10px; }
input[type=text] { width: 100%; box-sizing: border-box; padding: 6px; }
#k { width: 60px; }
#search { margin-top: 10px; padding: 6px 16px; }
#error { color: #b71c1c; margin-top: 8px; white-space: pre-wrap; }
#results { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 8px; }
.result { text-align: center; font-size: 12px; }
.result img { width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
.result .id { word-break: break-all; }
table.path { border-collapse: collapse; margin: 6px 16px 6px 0; display: inline-table; font-size: 12px; }
table.path td, table.path th { border: 1px solid #ccc; padding: 3px 6px; text-align: center; }
#status { color: #666; font-size: 12px; margin-top: 6px; }
`;

// The page's script: plain DOM calls, every request to this server's API.
const SCRIPT = `
const $ = (id) => document.getElementById(id);
let chosen = null;   // { item } or { file }
let offset = 0;

function setReference(desc, src) {
  $("reference").innerHTML = "";
  const img = document.createElement("img"); img.src = src; img.alt = desc;
  const span = document.createElement("span"); span.textContent = desc;
  $("reference").append(img, span);
}

async function loadItems(reset) {
  if (reset) { offset = 0; $("picker").innerHTML = ""; }
  const q = new URLSearchParams({ offset, limit: 60, filter: $("filter").value });
  const page = await (await fetch("/items?" + q)).json();
  for (const it of page.items) {
    const img = document.createElement("img");
    img.src = it.thumbnail; img.title = it.id; img.dataset.id = it.id;
    img.onclick = () => {
      document.querySelectorAll("#picker img.on").forEach((e) => e.classList.remove("on"));
      img.classList.add("on");
      chosen = { item: it.id };
      setReference("catalogue item " + it.id, it.thumbnail);
    };
    $("picker").append(img);
  }
  offset += page.items.length;
  $("more").hidden = offset >= page.total;
}

function useFile(file) {
  if (!file) return;
  chosen = { file };
  document.querySelectorAll("#picker img.on").forEach((e) => e.classList.remove("on"));
  setReference("your photo " + file.name, URL.createObjectURL(file));
}

function drawPath(path) {
  const box = $("path"); box.innerHTML = "";
  for (const layer of path) {
    const t = document.createElement("table"); t.className = "path";
    const cap = t.createCaption(); cap.textContent = "layer " + layer.layer + (layer.receivers.length === 1 ? " → output" : " → layer " + (layer.layer + 1));
    const head = t.insertRow(); head.insertCell().textContent = "";
    for (const r of layer.receivers) { const th = document.createElement("th"); th.textContent = r; head.append(th); }
    layer.weights.forEach((row, i) => {
      const tr = t.insertRow(); const th = document.createElement("th"); th.textContent = layer.modules[i]; tr.append(th);
      for (const w of row) { const td = tr.insertCell(); td.textContent = w.toFixed(2); td.style.background = "rgba(229,57,53," + w.toFixed(3) + ")"; }
    });
    box.append(t);
  }
}

async function search() {
  $("error").textContent = "";
  if (!chosen) { $("error").textContent = "image: pick a catalogue item or drop a photo"; return; }
  const form = new FormData();
  if (chosen.item) form.append("item", chosen.item); else form.append("image", chosen.file);
  form.append("text", $("text").value);
  form.append("k", $("k").value);
  $("status").textContent = "searching…";
  const res = await fetch("/query", { method: "POST", body: form });
  const body = await res.json();
  $("status").textContent = "";
  if (!res.ok) { $("error").textContent = (body.error.field ? body.error.field + ": " : "") + body.error.message; return; }
  const list = $("results"); list.innerHTML = "";
  for (const r of body.results) {
    const div = document.createElement("div"); div.className = "result"; div.dataset.id = r.id;
    const img = document.createElement("img"); img.src = r.thumbnail; img.alt = r.id;
    const id = document.createElement("div"); id.className = "id"; id.textContent = r.rank + ". " + r.id;
    const score = document.createElement("div"); score.className = "score"; score.textContent = r.score.toFixed(3);
    div.append(img, id, score); list.append(div);
  }
  drawPath(body.path);
  $("status").textContent = body.results.length + " results · encoded with " + (body.batch - 1) + " other queries · " + body.timing_ms.encode.toFixed(1) + " ms encode, " + body.timing_ms.search.toFixed(1) + " ms search";
}

$("tab-items").onclick = () => { $("tab-items").classList.add("on"); $("tab-photo").classList.remove("on"); $("items-pane").hidden = false; $("photo-pane").hidden = true; };
$("tab-photo").onclick = () => { $("tab-photo").classList.add("on"); $("tab-items").classList.remove("on"); $("items-pane").hidden = true; $("photo-pane").hidden = false; };
$("filter").oninput = () => loadItems(true);
$("more").onclick = () => loadItems(false);
$("file").onchange = (e) => useFile(e.target.files[0]);
const drop = $("drop");
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove("over"); useFile(e.dataTransfer.files[0]); };
$("search").onclick = search;
$("text").onkeydown = (e) => { if (e.key === "Enter") search(); };
loadItems(true);
`;

/** The page's HTML. */
export function pageHtml(o: PageOptions): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(o.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<header><b>${escape(o.title)}</b><small>${o.count} catalogue items · ${o.layers.length} fusion layers (${escape(o.layers[0]?.join(", ") ?? "")})</small></header>
<main>
<section>
  <h2>1. Reference</h2>
  <div class="tabs"><button id="tab-items" class="on">Catalogue item</button><button id="tab-photo">Your photo</button></div>
  <div id="items-pane"><input type="text" id="filter" placeholder="filter ids"><div id="picker"></div><button id="more" hidden>more</button></div>
  <div id="photo-pane" hidden><div id="drop">drop a JPEG, PNG or WebP here, or <input type="file" id="file" accept="image/jpeg,image/png,image/webp"></div></div>
  <div id="reference"></div>
  <h2 style="margin-top:12px">2. Modification</h2>
  <label>text (at most ${o.maxWords} words) <input type="text" id="text" placeholder="e.g. is red with short sleeves"></label>
  <label>top K <input type="number" id="k" value="10" min="1" max="${o.count}"></label>
  <button id="search">Search</button>
  <div id="error" role="alert"></div><div id="status"></div>
</section>
<section>
  <h2>Results</h2><div id="results"></div>
  <h2 style="margin-top:14px">Routing path</h2><div id="path"></div>
</section>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
