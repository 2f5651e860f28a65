// bench leaderboards: sort a table by a column, filter its rows, show intervals. No framework.
"use strict";

function cellOf(row, index) {
  return row.children[index];
}

function sortValue(cell, type) {
  if (type === "number") {
    const raw = cell.getAttribute("data-sort");
    return raw === null || raw === "" ? null : parseFloat(raw);
  }
  return cell.textContent.trim().toLowerCase();
}

function sortTable(table, header) {
  const index = parseInt(header.getAttribute("data-col"), 10);
  const type = header.getAttribute("data-type");
  const descending = header.getAttribute("aria-sort") !== "descending"
    && !(type === "text" && header.getAttribute("aria-sort") === null);
  table.querySelectorAll("th[aria-sort]").forEach((th) => th.removeAttribute("aria-sort"));
  header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = sortValue(cellOf(a, index), type);
    const y = sortValue(cellOf(b, index), type);
    if (x === null && y === null) return 0;
    if (x === null) return 1; // missing values last, whichever the direction
    if (y === null) return -1;
    const order = x < y ? -1 : x > y ? 1 : 0;
    return descending ? -order : order;
  });
  rows.forEach((row) => body.appendChild(row));
}

function filterTable(table, text) {
  const terms = text.toLowerCase().split(/\s+/).filter(Boolean);
  Array.from(table.tBodies[0].rows).forEach((row) => {
    const haystack = row.getAttribute("data-search") || "";
    row.hidden = !terms.every((term) => haystack.includes(term));
  });
}

document.querySelectorAll("table.sortable").forEach((table) => {
  table.querySelectorAll("th[data-col] button.sort").forEach((button) => {
    button.addEventListener("click", () => sortTable(table, button.parentElement));
  });
});

document.querySelectorAll("input.filter").forEach((input) => {
  const table = document.getElementById(input.getAttribute("data-table"));
  input.addEventListener("input", () => filterTable(table, input.value));
});

document.querySelectorAll("input.show-ci").forEach((box) => {
  const table = document.getElementById(box.getAttribute("data-table"));
  box.addEventListener("change", () => table.classList.toggle("with-ci", box.checked));
});
