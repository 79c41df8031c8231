// The live character count under the recap prompts. It counts as the server does
// (studyhall.core.text.collapse_whitespace): each answer trimmed, every run of white space
// as one space, the three answers summed, in code points. The server renders the same text,
// so the page reads right without JavaScript.
(function () {
  "use strict";

  // Python's str.isspace() set, so both sides agree on what white space is.
  var WHITESPACE_RUN =
    /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

  function counted(text) {
    var collapsed = text.replace(WHITESPACE_RUN, " ");
    if (collapsed.charAt(0) === " ") collapsed = collapsed.slice(1);
    if (collapsed.charAt(collapsed.length - 1) === " ") collapsed = collapsed.slice(0, -1);
    return Array.from(collapsed).length;
  }

  function describe(count, minimum) {
    var shown = count + " / " + minimum + " characters";
    return count < minimum ? shown + " — " + (minimum - count) + " more needed" : shown + " — enough";
  }

  var announceTimers = new WeakMap();

  function update(box, announce) {
    var minimum = parseInt(box.getAttribute("data-min-chars"), 10) || 0;
    var total = 0;
    box.querySelectorAll("[data-recap-answer]").forEach(function (answer) {
      total += counted(answer.value);
    });
    var text = describe(total, minimum);
    var output = box.querySelector("[data-recap-count-text]");
    if (output) {
      output.textContent = text;
      output.classList.toggle("recap-count--met", total >= minimum);
    }
    // Screen readers hear the count once typing pauses, not at every key.
    var live = box.querySelector("[data-recap-count-live]");
    if (live && announce) {
      clearTimeout(announceTimers.get(box));
      announceTimers.set(
        box,
        setTimeout(function () {
          live.textContent = text;
        }, 1200)
      );
    }
  }

  function updateAll(root) {
    if (root.matches && root.matches("[data-recap-count]")) update(root, false);
    root.querySelectorAll("[data-recap-count]").forEach(function (box) {
      update(box, false);
    });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.matches("[data-recap-answer]")) return;
    var box = target.closest("[data-recap-count]");
    if (box) update(box, true);
  });
  document.addEventListener("DOMContentLoaded", function () {
    updateAll(document);
  });
  // The form comes back from the server after a refused submission (htmx swaps it in).
  document.addEventListener("htmx:load", function (event) {
    updateAll(event.target);
  });
})();
