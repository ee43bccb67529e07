/* Draws every chart on the page from its figure block (<script type="application/json" class="figure">).
   The PNG stays in place until the interactive chart has drawn, so the page reads without this script. */
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
    window.Plotly.newPlot(target, spec.data, spec.layout, spec.config).then(function () {
      figure.classList.add("interactive");
    });
  });
})();
