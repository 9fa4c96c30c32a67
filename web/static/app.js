// The page's only script (no framework, nothing loaded from elsewhere). Without it every
// form still works by plain submission; with it, ticking a what-if re-scores in place.
"use strict";
(function () {
  document.documentElement.classList.add("js");

  function focusLanding() {
    // after a submission, take keyboard and screen-reader users to what changed
    var target = document.getElementById("errors") || document.getElementById("results-title");
    if (target) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: false });
    }
  }

  function rescore(box) {
    var form = document.getElementById("draft");
    var status = document.getElementById("rescoring");
    var results = document.getElementById("results");
    if (!form || !window.fetch || !window.DOMParser) { form && form.requestSubmit(); return; }
    var wanted = { value: box.value, checked: box.checked };
    if (status) status.textContent = "Re-scoring…";
    if (results) results.classList.add("busy");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
      var main = document.getElementById("main");
      if (!fresh || !main) throw new Error("unexpected answer");
      main.innerHTML = fresh.innerHTML;
      var again = null;
      main.querySelectorAll("input[data-what-if]").forEach(function (el) {
        if (!again && el.value === wanted.value && el.checked === wanted.checked) again = el;
      });
      var note = document.getElementById("rescoring");
      if (note) note.textContent = wanted.checked ? "Re-scored with the fact added." : "Re-scored without the fact.";
      showPrint();
      if (again) again.focus(); else focusLanding();
    }).catch(function () {
      form.requestSubmit();  // fall back to an ordinary submission
    });
  }

  // "Print or save as PDF": shown only where a script can print (it is a plain button)
  function showPrint() {
    document.querySelectorAll("button[data-print]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-print]") : null;
    if (button) window.print();
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box && box.matches && box.matches("input[data-what-if]")) rescore(box);
  });

  function ready() { showPrint(); focusLanding(); }
  if (document.readyState !== "loading") ready();
  else document.addEventListener("DOMContentLoaded", ready);
})();
