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
      button.textContent = show ? "パスワードを隠す" : "パスワードを表示";
      input.focus();
    });
    // Never submit with the password visible in the page: hide it again on submit.
    if (input.form) {
      input.form.addEventListener("submit", function () { input.type = "password"; });
    }
  });
}());
