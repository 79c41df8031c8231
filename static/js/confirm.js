// Forms marked data-confirm="question" ask before they submit. A static file rather than
// onsubmit="" attributes, which the Content-Security-Policy does not allow.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
  if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
});
