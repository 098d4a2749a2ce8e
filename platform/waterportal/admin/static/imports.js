// 取り込み: the upload runs in the request; while it does, say so and stop a second click.
(function () {
  var form = document.getElementById("import-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    var button = document.getElementById("import-submit");
    var busy = document.getElementById("import-busy");
    button.disabled = true;
    button.textContent = "処理中…";
    form.setAttribute("aria-busy", "true");
    busy.textContent = form.getAttribute("data-busy-text");
    busy.hidden = false;
  });
})();
