// Autosave for the questionnaire: each answer is saved as soon as it is chosen, with the same version
// check as the Save button. Without JavaScript the buttons do the same job.
(function () {
  "use strict";
  const form = document.getElementById("questionnaire");
  if (!form || !window.fetch) return;
  const url = form.dataset.autosaveUrl;
  const page = form.dataset.page;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const timers = new Map();
  // One save at a time per question: a later choice waits for the earlier save's new revision, so fast
  // clicking never looks like a colleague's edit.
  const queues = new Map();

  function field(fieldset, name) {
    return form.querySelector(`[name="${name}-${CSS.escape(fieldset.dataset.item)}"]`);
  }

  function setStatus(fieldset, text, kind) {
    const status = fieldset.querySelector(".autosave-status");
    status.textContent = text;
    status.className = "small mt-1 autosave-status" + (kind ? " text-" + kind : "");
  }

  async function save(fieldset) {
    const code = fieldset.dataset.item;
    const chosen = form.querySelector(`input[name="answer-${CSS.escape(code)}"]:checked`);
    const note = field(fieldset, "note");
    const revision = field(fieldset, "rev");
    setStatus(fieldset, form.dataset.msgSaving, "secondary");
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        credentials: "same-origin",
        body: JSON.stringify({
          item: code,
          value: chosen ? chosen.value : null,
          note: note ? note.value : "",
          revision: revision.value,
          page: page,
        }),
      });
      const data = await response.json();
      if (response.ok && data.ok) {
        revision.value = data.revision;
        setStatus(fieldset, form.dataset.msgSaved, "success");
        fieldset.classList.remove("border-warning");
        const bar = document.getElementById("progress-bar");
        if (bar) { bar.value = data.answered; bar.max = data.total; }
      } else {
        fieldset.classList.add("border-warning");
        setStatus(fieldset, data.message || form.dataset.msgFailed, "danger");
      }
    } catch (error) {
      setStatus(fieldset, form.dataset.msgFailed, "danger");
    }
  }

  function schedule(fieldset, delay) {
    clearTimeout(timers.get(fieldset));
    timers.set(fieldset, setTimeout(() => {
      queues.set(fieldset, (queues.get(fieldset) || Promise.resolve()).then(() => save(fieldset)));
    }, delay));
  }

  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset.question");
    if (fieldset) schedule(fieldset, event.target.type === "radio" ? 0 : 300);
  });
  form.addEventListener("input", (event) => {
    const fieldset = event.target.closest("fieldset.question");
    if (fieldset && event.target.tagName === "TEXTAREA") schedule(fieldset, 1500);
  });
})();
