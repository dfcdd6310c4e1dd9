// Filters by site, discipline and outcome: an element with data-site / data-discipline /
// data-outcome is hidden when a chosen filter value differs from its attribute. Elements
// without the attribute are not filtered by it (e.g. existing bookings by outcome).
(function () {
  "use strict";
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var targets = document.querySelectorAll("[data-site], [data-discipline], [data-outcome]");

  function chosen() {
    var out = {};
    selects.forEach(function (s) { out[s.getAttribute("data-filter")] = s.value; });
    return out;
  }

  function apply() {
    var want = chosen();
    var shown = 0;
    Array.prototype.forEach.call(targets, function (el) {
      var ok = Object.keys(want).every(function (key) {
        var value = el.getAttribute("data-" + key);
        return !want[key] || value === null || value === want[key];
      });
      el.hidden = !ok;
      if (ok && el.getAttribute("data-outcome") && el.classList.contains("bar")) { shown += 1; }
    });
    var count = document.getElementById("filter-count");
    if (count) { count.textContent = shown + " første aftaler vist / first sessions shown"; }
  }

  selects.forEach(function (s) { s.addEventListener("change", apply); });
  apply();
}());
