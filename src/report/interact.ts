// The pages' only script, inline (no CDN, the page stays one file): hovering a chart shows
// the x value and each line's nearest value (each polyline carries its values in data-values,
// the chart its scale in data-scale: src/report/svg.ts). The loss charts' log-scale switch is CSS only.

export const INTERACT_STYLE = `
svg .hover text { font-size: 11px; fill: #1d2430; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg .hover line { stroke: #8894a3; stroke-dasharray: 2 2; }
.scale-toggle { font-size: 13px; color: #5b6675; }
#log-losses:checked ~ .grid .linear, #log-losses:not(:checked) ~ .grid .log { display: none; }
`;

export const HOVER_SCRIPT = `<script>
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var fmt = function (v) { return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(+v.toPrecision(4)); };
  function make(tag, attrs, parent) {
    var el = document.createElementNS(NS, tag);
    for (var k in attrs) el.setAttribute(k, attrs[k]);
    parent.appendChild(el);
    return el;
  }
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var s = svg.getAttribute("data-scale").split(",").map(Number); // left, top, width, height, x0, x1, y0, y1, log
    var lines = Array.prototype.map.call(svg.querySelectorAll("polyline[data-name]"), function (pl) {
      var split = function (a) { return pl.getAttribute(a).trim().split(" ").map(function (p) { return p.split(",").map(Number); }); };
      var values = split("data-values");
      var pts = split("points").map(function (q, i) { return [q[0], q[1], values[i][0], values[i][1]]; });
      return { name: pl.getAttribute("data-name"), color: pl.getAttribute("stroke"), pts: pts };
    });
    var tip = make("g", { "class": "hover", display: "none" }, svg);
    var guide = make("line", { y1: s[1], y2: s[1] + s[3] }, tip);
    var label = make("text", {}, tip);
    var dots = make("g", {}, tip);
    var valueY = function (v) { return s[8] ? Math.pow(10, v) : v; }; // a log chart stores log10(y)
    svg.addEventListener("mousemove", function (ev) {
      var pt = svg.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      var p = pt.matrixTransform(svg.getScreenCTM().inverse());
      if (p.x < s[0] || p.x > s[0] + s[2]) { tip.setAttribute("display", "none"); return; }
      var rows = [];
      var gx = null;
      lines.forEach(function (l) {
        var best = null;
        l.pts.forEach(function (q) { if (best === null || Math.abs(q[0] - p.x) < Math.abs(best[0] - p.x)) best = q; });
        if (best && Math.abs(best[0] - p.x) < 24) { rows.push([l, best]); if (gx === null) gx = best[0]; }
      });
      if (rows.length === 0) { tip.setAttribute("display", "none"); return; }
      tip.setAttribute("display", "inline");
      guide.setAttribute("x1", gx); guide.setAttribute("x2", gx);
      while (dots.firstChild) dots.removeChild(dots.firstChild);
      while (label.firstChild) label.removeChild(label.firstChild);
      var right = gx > s[0] + s[2] * 0.6;
      label.setAttribute("text-anchor", right ? "end" : "start");
      var tx = gx + (right ? -8 : 8);
      make("tspan", { x: tx, y: s[1] + 14 }, label).textContent = "x " + fmt(rows[0][1][2]);
      rows.forEach(function (r, i) {
        make("circle", { cx: r[1][0], cy: r[1][1], r: 3.5, fill: r[0].color }, dots);
        var t = make("tspan", { x: tx, dy: 14, fill: r[0].color }, label);
        t.textContent = r[0].name + " " + fmt(valueY(r[1][3]));
      });
    });
    svg.addEventListener("mouseleave", function () { tip.setAttribute("display", "none"); });
  });
})();
</script>`;
