// Small progressive enhancements: every page works without this file.
"use strict";

// Live logs come through htmx's SSE extension, one line rendered by the server per event:
// a log scrolled to its end stays at its end, and a long one keeps its last lines only.
const MAX_LINES = 2000;
document.addEventListener("htmx:sseBeforeMessage", (event) => {
  const box = event.target;
  box.dataset.stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 8 ? "yes" : "";
});
document.addEventListener("htmx:sseMessage", (event) => {
  const box = event.target;
  if (!box.classList.contains("log")) return;
  while (box.childElementCount > MAX_LINES) box.firstElementChild.remove();
  if (box.dataset.stick) box.scrollTop = box.scrollHeight;
});

// A part of a page that is slow to read (it asks a server) comes in after the page.
async function loadInto(box) {
  try {
    const response = await fetch(box.dataset.loadUrl, { credentials: "same-origin" });
    box.innerHTML = response.ok ? await response.text() : `<p class="error">Could not read it (${response.status}).</p>`;
  } catch (error) {
    box.innerHTML = '<p class="error">Could not read it: the panel did not answer.</p>';
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-load-url]").forEach(loadInto);
  const log = document.getElementById("job-log");
  if (log) log.scrollTop = log.scrollHeight;
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
