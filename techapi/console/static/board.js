// The day board: while an assignment is on its way, ask the server every 2 s how
// it stands and show it on the page, so nobody has to reload to notice. Bounded:
// at most 150 polls (5 minutes) per page load.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !board.dataset.poll) { return; }
  var polls = 0;

  function pending() {
    return board.querySelector('[data-assignment="PENDING"]') !== null;
  }

  function update(jobs) {
    board.querySelectorAll("[data-assignment]").forEach(function (badge) {
      var now = jobs[badge.dataset.job];
      if (!now || now.status === badge.dataset.assignment) { return; }
      badge.dataset.assignment = now.status;
      badge.className = "badge assignment-" + now.status.toLowerCase();
      badge.textContent = now.label;
      document.getElementById("board-changed").hidden = false;
    });
  }

  function poll() {
    if (!pending() || polls++ >= 150) { return; }
    fetch(board.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) { update(body.jobs); } })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, 2000); });
  }

  window.setTimeout(poll, 2000);
}());
