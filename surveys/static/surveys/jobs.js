// The job page's progress (surveys/jobs): asks the JSON endpoint once a second and updates the bar, the
// count and the state without a reload; when the job ends, the page is reloaded once to offer the result
// (or the error and the retry button). No third-party code.
(function () {
  "use strict";
  var box = document.getElementById("job-status");
  if (!box || box.dataset.ended === "1") {
    return;
  }
  var bar = document.getElementById("job-bar");
  var count = document.getElementById("job-count");
  var state = document.getElementById("job-state");
  var error = document.getElementById("job-error");
  var INTERVAL = 1000;

  function show(data) {
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    count.textContent = data.count_label; // grouped by the server ("1,200 / 10,000"), as the page first shows it
    state.textContent = data.state_label;
    if (data.error) {
      error.textContent = data.error;
      error.classList.remove("d-none");
    }
  }

  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) {
          window.setTimeout(poll, INTERVAL * 5);
          return;
        }
        show(data);
        if (data.ended) {
          window.location.reload();
        } else {
          window.setTimeout(poll, INTERVAL);
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL * 5);
      });
  }

  window.setTimeout(poll, INTERVAL);
})();
