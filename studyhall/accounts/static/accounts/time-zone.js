// Preselect the time zone the browser reports, when the list has it. The server's default
// (UTC) stays when scripts are off or the browser's zone is not offered.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) return;
  document.querySelectorAll("select[data-detect-time-zone]").forEach(function (select) {
    var match = Array.prototype.some.call(select.options, function (option) {
      return option.value === zone;
    });
    if (match) select.value = zone;
  });
})();
