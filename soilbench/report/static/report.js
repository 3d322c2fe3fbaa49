// soilbench report: sortable tables. No libraries, no network, no inline handlers (CSP).
"use strict";
(function () {
  function cellValue(row, col, type) {
    var cell = row.children[col];
    if (!cell) { return type === "num" ? -Infinity : ""; }
    var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
    if (type === "num") {
      var n = parseFloat(raw);
      return isNaN(n) ? -Infinity : n;  // missing values sort last when descending
    }
    return raw.trim().toLowerCase();
  }

  function sortBy(table, th) {
    var col = parseInt(th.getAttribute("data-col"), 10);
    var type = th.getAttribute("data-type") || "text";
    // first click: numbers descending (best score first), text ascending
    var current = th.getAttribute("aria-sort");
    var ascending = current ? current !== "ascending" : type !== "num";
    table.querySelectorAll("thead th[aria-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col, type), y = cellValue(b, col, type);
      if (x < y) { return ascending ? -1 : 1; }
      if (x > y) { return ascending ? 1 : -1; }
      return 0;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th[data-col]").forEach(function (th) {
        th.classList.add("sort");
        th.addEventListener("click", function (event) {
          if (event.target.closest("a")) { return; }  // header links navigate instead
          sortBy(table, th);
        });
        th.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, th); }
        });
      });
    });
  });
})();
