// The header's links fold into a "Menu" button on narrow screens. Without this script the
// links simply stay open, so nothing depends on it.
(function () {
  "use strict";
  function setUp() {
    var toggle = document.querySelector(".site-menu-toggle");
    var header = document.querySelector(".site-header");
    if (!toggle || !header) return;
    header.setAttribute("data-menu", "closed");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      header.setAttribute("data-menu", open ? "closed" : "open");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        header.setAttribute("data-menu", "closed");
        toggle.focus();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
