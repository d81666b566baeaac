// wattlas planning service: progress of a run and inline validation of a scenario.
// Plain DOM, no dependencies; text is only ever set with textContent (never as HTML).
"use strict";

function csrf() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.getAttribute("content") : "";
}

function watchRun(box) {
  const url = box.dataset.url;
  const bar = box.querySelector("progress");
  const status = document.getElementById("status");
  const message = document.getElementById("message");
  if (box.dataset.status === "done" || box.dataset.status === "failed") return;
  const tick = () => {
    fetch(url, {credentials: "same-origin"}).then((r) => r.json()).then((run) => {
      bar.value = run.progress_frac || 0;
      status.textContent = run.status;
      message.textContent = run.message || "";
      if (run.status === "done" || run.status === "failed") {
        window.location.reload();
      } else {
        window.setTimeout(tick, 500);
      }
    }).catch(() => window.setTimeout(tick, 2000));
  };
  window.setTimeout(tick, 300);
}

function validateInline(form) {
  const area = form.querySelector("textarea[name=yaml]");
  const list = form.querySelector("#errors");
  let timer = null;
  const check = () => {
    fetch(form.dataset.validate, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
      body: JSON.stringify({yaml: area.value}),
    }).then((r) => r.json()).then((res) => {
      list.replaceChildren();
      for (const e of res.errors || []) {
        const li = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = e.field;
        li.append(code, ": " + e.message);
        list.append(li);
      }
      form.dataset.valid = res.valid ? "yes" : "no";
    }).catch(() => {});
  };
  area.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 400);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("progress");
  if (box) watchRun(box);
  for (const form of document.querySelectorAll("form[data-validate]")) validateInline(form);
});
