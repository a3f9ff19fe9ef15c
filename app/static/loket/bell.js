/* The navbar's bell: the signed-in officer's unread SLA alerts, read once the page is drawn
   (GET /notifikasi/jumlah), so no page waits for the count. */
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  if (!bell || !window.fetch) { return; }
  fetch(bell.getAttribute("data-count-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (state) {
      if (!state || !state.unread) { return; }
      var badge = document.getElementById("notification-count");
      badge.textContent = state.unread > 99 ? "99+" : String(state.unread);
      badge.classList.remove("hidden");
      var icon = bell.querySelector(".fa-bell-o");
      if (icon) { icon.className = "fa fa-bell"; }
    })
    .catch(function () { /* the bell stays without a count */ });
}());
