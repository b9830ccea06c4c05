// The circulation desk, better with a script: scan forms are sent in the background and the page's
// main part is swapped for the answer, so the barcode field keeps focus and the live region (kept
// in place, so screen readers notice the change) reads the answer out. Without this script the same
// forms post and redirect as usual.
(function () {
  "use strict";
  var busy = false;

  function focusBarcode() {
    var field = document.querySelector("[data-desk-barcode]");
    if (field) { field.value = ""; field.focus(); }
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var newMain = doc.querySelector("main");
    var oldMain = document.querySelector("main");
    if (!newMain || !oldMain) { return false; }
    var oldLive = document.getElementById("desk-live");
    var newLive = newMain.querySelector("#desk-live");
    if (oldLive && newLive) {
      var content = newLive.innerHTML;
      newLive.replaceWith(oldLive);
      oldLive.innerHTML = content;
    }
    oldMain.replaceWith(newMain);
    bind(newMain);
    return true;
  }

  function submit(event) {
    var form = event.currentTarget;
    if (!window.fetch || !window.FormData || !window.DOMParser) { return; }
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        busy = false;
        if (!swap(html)) { form.submit(); return; }
        var summary = document.getElementById("error-summary");
        if (summary) { summary.focus(); } else { focusBarcode(); }
      })
      .catch(function () { busy = false; form.submit(); });
  }

  function bind(root) {
    root.querySelectorAll("form[data-desk-scan]").forEach(function (form) {
      form.addEventListener("submit", submit);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
})();
