// Small progressive enhancements: every page works without this file.
"use strict";

function followJobLog(log) {
  const status = document.getElementById("job-status");
  const note = document.getElementById("live-note");
  let after = log.dataset.after;
  const source = new EventSource(`${log.dataset.streamUrl}?after=${encodeURIComponent(after)}`);

  source.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    if (status && status.classList.contains("status-queued")) {
      status.textContent = "Running";
      status.className = "status status-running";
    }
    if (log.querySelector(`[data-seq="${line.seq}"]`)) return;
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    const row = document.createElement("div");
    row.className = `line kind-${line.kind}`;
    row.dataset.seq = line.seq;
    const time = document.createElement("time");
    time.textContent = new Date(line.at).toISOString().slice(11, 19);
    const text = document.createElement("span");
    text.textContent = line.text; // log lines are text, never markup
    row.append(time, text);
    log.append(row);
    if (stick) log.scrollTop = log.scrollHeight;
  });

  source.addEventListener("end", (event) => {
    source.close();
    const ended = JSON.parse(event.data);
    if (status) {
      status.textContent = ended.label;
      status.className = `status status-${ended.status}`;
    }
    const error = document.getElementById("job-error");
    if (error && ended.error) {
      error.textContent = ended.error;
      error.hidden = false;
    }
    if (note) note.textContent = "Finished";
    const cancel = document.getElementById("cancel-form");
    if (cancel) cancel.remove();
  });
}

function followAppLogs(box) {
  const source = new EventSource(box.dataset.logsUrl);
  source.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    const row = document.createElement("div");
    row.className = "line";
    const origin = document.createElement("span");
    origin.className = "source";
    origin.textContent = line.source;
    const text = document.createElement("span");
    text.textContent = line.text;
    row.append(origin, text);
    box.append(row);
    while (box.childElementCount > 2000) box.firstElementChild.remove();
    if (stick) box.scrollTop = box.scrollHeight;
  });
}

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
  document.querySelectorAll("[data-logs-url]").forEach(followAppLogs);
  document.querySelectorAll("[data-load-url]").forEach(loadInto);
  const log = document.getElementById("job-log");
  if (log && log.dataset.streamUrl) {
    log.scrollTop = log.scrollHeight;
    followJobLog(log);
  }
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
