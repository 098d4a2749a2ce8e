// Show/hide for password fields. Progressive enhancement: the toggle button is rendered
// with `hidden`, and only this script reveals it, so without JavaScript the field is a
// plain password input and nothing is broken.
(function () {
  "use strict";
  document.querySelectorAll("[data-password-toggle]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-password-toggle"));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", show ? "true" : "false");
      // The page's language: the labels come from data-hide-label / data-show-label when given.
      button.textContent = show ? (button.getAttribute("data-hide-label") || "パスワードを隠す")
        : (button.getAttribute("data-show-label") || "パスワードを表示");
      input.focus();
    });
    // Never submit with the password visible in the page: hide it again on submit.
    if (input.form) {
      input.form.addEventListener("submit", function () { input.type = "password"; });
    }
  });
}());
