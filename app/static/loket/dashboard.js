/* The dashboard's "Unduh PNG" buttons: each .dashboard-panel's inline <svg> (drawn by reports/charts.py)
   is drawn onto a canvas at twice its size on white and downloaded as "<data-name>.png".
   The SVG is loaded as an image from a blob: URL, which the page's policy allows in img-src only.
   Nothing leaves the browser; no inline script, no eval. */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var SCALE = 2;

  function fileName(panel) {
    var name = (panel.getAttribute("data-name") || "").replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
    return (name || "grafik") + ".png";
  }

  // The drawn size: the viewBox's, or the size the page shows it at.
  function sizeOf(svg) {
    var box = svg.viewBox && svg.viewBox.baseVal;
    if (box && box.width && box.height) { return {width: box.width, height: box.height}; }
    var rect = svg.getBoundingClientRect();
    return {width: rect.width || 300, height: rect.height || 150};
  }

  function serialize(svg, size) {
    var copy = svg.cloneNode(true);
    if (!copy.getAttribute("xmlns")) { copy.setAttribute("xmlns", SVG_NS); }
    // An image needs a size of its own: "100%" means nothing outside the page.
    copy.setAttribute("width", String(size.width));
    copy.setAttribute("height", String(size.height));
    return new XMLSerializer().serializeToString(copy);
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  function chartOf(panel) {
    return panel.querySelector("svg.chart") || panel.querySelector("svg");
  }

  function download(panel, button) {
    var svg = chartOf(panel);
    if (!svg) { return; }
    var size = sizeOf(svg);
    var source = URL.createObjectURL(new Blob([serialize(svg, size)], {type: "image/svg+xml;charset=utf-8"}));
    var image = new Image();
    button.disabled = true;
    function done() {
      URL.revokeObjectURL(source);
      button.disabled = false;
    }
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(size.width * SCALE);
      canvas.height = Math.round(size.height * SCALE);
      var context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      done();
      canvas.toBlob(function (png) {
        if (png) { save(png, fileName(panel)); }
      }, "image/png");
    };
    image.onerror = function () {
      done();
      button.classList.add("btn-danger");
    };
    image.src = source;
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".dashboard-panel"), function (panel) {
      var button = panel.querySelector(".download-png");
      if (!button || !chartOf(panel)) { return; }
      button.addEventListener("click", function (event) {
        event.preventDefault();
        download(panel, button);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
