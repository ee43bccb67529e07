/* Draws every chart on the page from its figure block (<script type="application/json" class="figure">).
   The PNG shows until then, so the page reads without this script. The plot is made visible before it
   is drawn: plotly sizes a chart to its container, and a hidden one would get a fixed 700px. */
(function () {
  "use strict";
  if (typeof window.Plotly === "undefined") {
    return;
  }
  var blocks = document.querySelectorAll("figure.chart > script.figure");
  Array.prototype.forEach.call(blocks, function (block) {
    var figure = block.parentNode;
    var target = figure.querySelector(".plot");
    var spec = JSON.parse(block.textContent);
    figure.classList.add("interactive");
    window.Plotly.newPlot(target, spec.data, spec.layout, spec.config).catch(function () {
      figure.classList.remove("interactive");
    });
  });
})();
