// Claim lines: add and remove rows of a form's table (web/templates/pages/_form.html).
// Without this script the page still works: it offers blank rows and a "More lines" button.
(function () {
  "use strict";

  function renumber(node, index) {
    ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
      node.querySelectorAll("[" + attr + "]").forEach(function (el) {
        el.setAttribute(attr, el.getAttribute(attr).split("__i__").join(String(index)));
      });
    });
  }

  function nextIndex(table, path) {
    var highest = -1;
    var pattern = new RegExp("^" + path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\[(\\d+)\\]\\.");
    table.querySelectorAll("[name]").forEach(function (el) {
      var found = pattern.exec(el.getAttribute("name"));
      if (found) { highest = Math.max(highest, parseInt(found[1], 10)); }
    });
    return highest + 1;
  }

  function wireRemove(row) {
    var button = row.querySelector("[data-remove-row]");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var table = row.closest("table");
      row.remove();
      var first = table && table.querySelector("tbody input, tbody select");
      if (first) { first.focus(); }
    });
  }

  document.querySelectorAll("table[data-lines]").forEach(function (table) {
    var path = table.getAttribute("data-lines");
    var template = document.querySelector('template[data-row-template="' + path + '"]');
    var add = document.querySelector('[data-add-row="' + path + '"]');
    table.querySelectorAll("tbody tr").forEach(wireRemove);
    if (!template || !add) { return; }
    add.hidden = false;
    var more = add.parentNode.querySelector("[data-more-rows]");
    if (more) { more.hidden = true; }
    add.addEventListener("click", function () {
      var row = template.content.firstElementChild.cloneNode(true);
      var index = nextIndex(table, path);
      renumber(row, index);
      row.querySelectorAll(".visually-hidden").forEach(function (label) {
        label.textContent = label.textContent.replace(/\s+$/, "") + " " + (table.tBodies[0].rows.length + 1);
      });
      table.tBodies[0].appendChild(row);
      wireRemove(row);
      var first = row.querySelector("input, select");
      if (first) { first.focus(); }
    });
  });
}());
