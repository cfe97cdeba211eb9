/* The messages-per-hour bar chart, drawn as SVG at the container's own pixel
 * size (so text is never stretched) and redrawn when that size changes. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var fmt = window.WebChatAdmin.format;

  function node(name, attrs, text) {
    var n = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) n.textContent = text;
    return n;
  }

  // Four gridlines on round whole numbers: a step of 1, 2, 3 or 5 × 10^k.
  function niceCeiling(n) {
    var want = Math.max(1, n / 4);
    var power = Math.pow(10, Math.floor(Math.log10(want)));
    var steps = [1, 2, 3, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= want) return steps[i] * power * 4;
    }
    return 40 * power;
  }

  // clientWidth counts the padding; drawing that wide would widen the box,
  // fire the resize observer and grow the chart without end.
  function contentWidth(container) {
    var style = window.getComputedStyle(container);
    return Math.floor(container.clientWidth - parseFloat(style.paddingLeft) -
      parseFloat(style.paddingRight));
  }

  function draw(container, buckets) {
    var width = Math.max(260, contentWidth(container));
    var narrow = width < 520;
    var height = narrow ? 200 : 240;
    var pad = { top: 12, right: 8, bottom: 26, left: 36 };
    var plotW = width - pad.left - pad.right;
    var plotH = height - pad.top - pad.bottom;
    var counts = buckets.map(function (b) { return Number(b.count) || 0; });
    var total = counts.reduce(function (a, b) { return a + b; }, 0);
    var peak = Math.max.apply(null, counts.concat([0]));
    var top = niceCeiling(peak);

    var busiest = counts.indexOf(peak);
    var summary = total === 0
      ? "No messages in the last 24 hours."
      : fmt.plural(total, "message", "messages") + " in the last 24 hours; busiest hour " +
        fmt.hour(fmt.parseUtc(buckets[busiest].hour)) + " with " + fmt.number(peak) + ".";

    var svg = node("svg", {
      width: width, height: height, viewBox: "0 0 " + width + " " + height,
      role: "img", "aria-label": summary, class: "chart-svg",
    });

    var grid = node("g", { class: "chart-grid" });
    for (var g = 0; g <= 4; g++) {
      var value = (top / 4) * g;
      var y = pad.top + plotH - (value / top) * plotH;
      grid.appendChild(node("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
      grid.appendChild(node("text", {
        x: pad.left - 6, y: y + 4, "text-anchor": "end", class: "chart-axis",
      }, fmt.number(value)));
    }
    svg.appendChild(grid);

    var slot = plotW / Math.max(1, buckets.length);
    var barW = Math.max(2, slot * 0.68);
    var every = narrow ? 6 : 3;
    var bars = node("g", { class: "chart-bars" });
    buckets.forEach(function (bucket, i) {
      var start = fmt.parseUtc(bucket.hour);
      var count = counts[i];
      var h = top ? (count / top) * plotH : 0;
      var x = pad.left + i * slot + (slot - barW) / 2;
      var bar = node("rect", {
        x: x.toFixed(1), y: (pad.top + plotH - h).toFixed(1),
        width: barW.toFixed(1), height: Math.max(0, h).toFixed(1), rx: 2,
        class: i === buckets.length - 1 ? "chart-bar current" : "chart-bar",
        "data-count": count,
      });
      var end = start ? new Date(start.getTime() + 3600 * 1000) : null;
      bar.appendChild(node("title", {}, fmt.hour(start) + "–" + fmt.hour(end) + ": " +
        fmt.plural(count, "message", "messages")));
      bars.appendChild(bar);
      // Labels sit mid-way between the edges, so none is clipped by them.
      if ((buckets.length - 1 - i) % every === Math.floor(every / 2)) {
        bars.appendChild(node("text", {
          x: (pad.left + i * slot + slot / 2).toFixed(1), y: height - 8,
          "text-anchor": "middle", class: "chart-axis",
        }, fmt.hour(start)));
      }
    });
    svg.appendChild(bars);
    svg.appendChild(node("line", {
      x1: pad.left, x2: width - pad.right, y1: pad.top + plotH, y2: pad.top + plotH,
      class: "chart-baseline",
    }));
    if (total === 0) {
      svg.appendChild(node("text", {
        x: pad.left + plotW / 2, y: pad.top + plotH / 2, "text-anchor": "middle",
        class: "chart-empty",
      }, "No messages in the last 24 hours"));
    }
    container.replaceChildren(svg);
    return { total: total, peak: peak };
  }

  // Keeps the last data so a resize can redraw without asking the API again.
  function BarChart(container) {
    var self = this;
    this.container = container;
    this.buckets = null;
    this.lastWidth = 0;
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        var w = contentWidth(container);
        if (self.buckets && w && w !== self.lastWidth) self.render(self.buckets);
      }).observe(container);
    }
  }

  BarChart.prototype.render = function (buckets) {
    this.buckets = buckets || [];
    this.lastWidth = contentWidth(this.container);
    return draw(this.container, this.buckets);
  };

  BarChart.prototype.clear = function () {
    this.buckets = null;
    this.container.replaceChildren();
  };

  window.WebChatAdmin.BarChart = BarChart;
})();
