/* Progressive enhancement for the password field: ticks each rule of the city's
   policy as the citizen types and says whether the confirmation matches. Without
   JavaScript nothing is lost: the server checks the same rules (accounts/policy.py). */
(function () {
  "use strict";
  var list = document.querySelector("[data-password-policy]");
  if (!list) { return; }
  var input = document.getElementById(list.getAttribute("data-for"));
  var confirm = document.getElementById(list.getAttribute("data-confirm"));
  var status = document.getElementById(list.getAttribute("data-status"));
  var confirmStatus = document.getElementById("password-confirm-status");
  if (!input) { return; }
  var min = parseInt(list.getAttribute("data-min-length"), 10) || 8;
  var symbols = list.getAttribute("data-allowed-symbols") || "";

  function has(value, test) {
    for (var i = 0; i < value.length; i++) { if (test(value.charAt(i))) { return true; } }
    return false;
  }
  function allowed(ch) { return /[A-Za-z0-9]/.test(ch) || symbols.indexOf(ch) !== -1; }
  var checks = {
    length: function (v) { return v.length >= min; },
    upper: function (v) { return /[A-Z]/.test(v); },
    lower: function (v) { return /[a-z]/.test(v); },
    digit: function (v) { return /[0-9]/.test(v); },
    symbol: function (v) { return has(v, function (ch) { return symbols.indexOf(ch) !== -1; }); },
    charset: function (v) { return v.length > 0 && !has(v, function (ch) { return !allowed(ch); }); }
  };

  function update() {
    var value = input.value, met = 0, total = 0;
    var items = list.querySelectorAll("li[data-rule]");
    for (var i = 0; i < items.length; i++) {
      var check = checks[items[i].getAttribute("data-rule")];
      if (!check) { continue; }
      var ok = check(value);
      total += 1;
      if (ok) { met += 1; }
      items[i].classList.toggle("ok", ok);
    }
    if (status) {
      status.textContent = value ? "条件" + total + "項目のうち" + met + "項目を満たしています。" : "";
    }
    updateConfirm();
  }

  function updateConfirm() {
    if (!confirm || !confirmStatus) { return; }
    if (!confirm.value) { confirmStatus.textContent = ""; return; }
    confirmStatus.textContent = confirm.value === input.value ? "パスワードが一致しています。" : "パスワードが一致していません。";
  }

  input.addEventListener("input", update);
  if (confirm) { confirm.addEventListener("input", updateConfirm); }
  update();
}());
