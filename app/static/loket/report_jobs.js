/* Live progress of report jobs on the jobs grid and the job page, without reloading.
   Polls GET /reportjobview/progress?ids=... every 2 s while any shown job is queued or running. */
(function () {
  "use strict";
  var root = document.getElementById("report-jobs");
  if (!root) { return; }
  var url = root.getAttribute("data-progress-url");
  var downloadLabel = root.getAttribute("data-download-label");

  function jobId(bar) {
    if (bar.getAttribute("data-job-id")) { return bar.getAttribute("data-job-id"); }
    var row = bar.closest("tr");
    var link = row && row.querySelector("a[href*='/reportjobview/show/']");
    var match = link && link.getAttribute("href").match(/\/show\/(\d+)/);
    return match ? match[1] : null;
  }

  var bars = {};
  Array.prototype.forEach.call(document.querySelectorAll(".job-progress"), function (bar) {
    var id = jobId(bar);
    if (id) { bars[id] = bar; }
  });

  function render(state) {
    var bar = bars[state.id];
    if (!bar) { return; }
    var inner = bar.querySelector(".progress-bar");
    inner.style.width = state.percent + "%";
    inner.textContent = state.percent + "% · " + state.status_label +
      (state.total ? " (" + state.done + "/" + state.total + ")" : "");
    inner.className = "progress-bar" + ({done: " progress-bar-success", failed: " progress-bar-danger",
      running: " progress-bar-striped active"}[state.status] || "");
    var row = bar.closest("tr");
    var status = row && row.querySelector(".job-status");
    if (status) { status.textContent = state.status_label; }
    var extra = bar.parentNode.querySelector(".job-result");
    if (!extra) {
      extra = document.createElement("div");
      extra.className = "job-result";
      bar.parentNode.appendChild(extra);
    }
    extra.textContent = "";
    if (state.download_url) {
      var a = document.createElement("a");
      a.className = "btn btn-xs btn-primary";
      a.href = state.download_url;
      a.textContent = downloadLabel;
      extra.appendChild(a);
    } else if (state.error) {
      var span = document.createElement("span");
      span.className = "text-danger";
      span.textContent = state.error;
      extra.appendChild(span);
    }
  }

  function poll() {
    var ids = Object.keys(bars);
    if (!ids.length) { return; }
    fetch(url + "?ids=" + ids.join(","), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (states) {
        states.forEach(render);
        var busy = states.some(function (s) { return s.status === "queued" || s.status === "running"; });
        if (busy) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  poll();
})();
