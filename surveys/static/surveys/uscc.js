// USCC boxes (input[data-uscc-separators]): a pasted or dropped code, and the box's content when it is left,
// are normalised by the server's rule (surveys/uscc.py normalize(): full-width to half-width (NFKC), the
// separators of data-uscc-separators removed, upper case). Nothing is ever cut off: a code that is too long
// stays as it is and the server reports its length. Without this script the server does the same on submit.
(function () {
  "use strict";
  if (typeof String.prototype.normalize !== "function") return;

  function normaliser(input) {
    try {
      const separators = new RegExp(input.dataset.usccSeparators, "gu");
      return (value) => value.normalize("NFKC").replace(separators, "").toUpperCase();
    } catch (error) {
      return null; // a browser without Unicode property escapes: leave the text to the server
    }
  }

  document.querySelectorAll("input[data-uscc-separators]").forEach((input) => {
    const normalise = normaliser(input);
    if (!normalise) return;
    const apply = () => {
      const value = normalise(input.value);
      if (value !== input.value) input.value = value;
    };
    input.addEventListener("input", (event) => {
      if (event.inputType === "insertFromPaste" || event.inputType === "insertFromDrop") apply();
    });
    input.addEventListener("change", apply);
    input.addEventListener("blur", apply);
  });
})();
