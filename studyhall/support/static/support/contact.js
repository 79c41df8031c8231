// The signed-out pages' Support bubble (templates/support/_bubble.html): it opens the contact
// form in a panel, loaded once by htmx; htmx sends it and swaps the answer in. Without script
// the bubble is a link to the form's own page.
(function () {
  "use strict";

  var root = document.getElementById("support-contact");
  if (!root) return;
  var toggle = document.getElementById("support-contact-toggle");
  var panel = document.getElementById("support-contact-panel");
  var loaded = false;

  function onOwnPage() {
    // The contact page itself shows the form: the bubble only takes you to it.
    return !!document.querySelector("main #support-contact-form");
  }

  function firstField() {
    return panel.querySelector("input:not([type=hidden]), textarea");
  }

  function open() {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    root.classList.add("support-chat--open");
    if (loaded) {
      var field = firstField();
      if (field) field.focus();
      return;
    }
    window.htmx
      .ajax("GET", root.getAttribute("data-form-url"), { target: "#support-contact-body", swap: "innerHTML" })
      .then(function () {
        loaded = !!panel.querySelector("form");
        var field = firstField();
        if (field) field.focus();
      });
  }

  function close(returnFocus) {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    root.classList.remove("support-chat--open");
    if (returnFocus) toggle.focus();
  }

  toggle.addEventListener("click", function (event) {
    if (onOwnPage() || !window.htmx) return; // follow the link
    event.preventDefault();
    if (panel.hidden) open();
    else close(true);
  });
  // A link with role=button also answers the space bar.
  toggle.addEventListener("keydown", function (event) {
    if (event.key === " ") {
      event.preventDefault();
      toggle.click();
    }
  });
  panel.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-contact-close]")) close(true);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      close(true);
    }
  });
  // "Too many messages" (429) comes back as the form with its message: show it too.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 429 && target instanceof Element && target.id === "support-contact-form") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // After an answer: focus the first field to fix.
  document.addEventListener("htmx:afterSettle", function () {
    var form = document.getElementById("support-contact-form");
    var invalid = form && form.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });
})();
