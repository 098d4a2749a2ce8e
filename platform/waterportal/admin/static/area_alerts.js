// 地区別のお知らせ: filter the area checkboxes by what is typed (the checked ones stay listed).
(function () {
  var input = document.getElementById("area-filter");
  var list = document.getElementById("area-list");
  if (!input || !list) return;
  var count = document.getElementById("area-filter-count");
  var items = Array.prototype.slice.call(list.querySelectorAll("li"));
  input.parentNode.hidden = false;
  function normalise(text) {
    // Full-width digits as ASCII, as the server reads a pasted list.
    return text.replace(/[０-９]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); })
      .replace(/\s+/g, "");
  }
  input.addEventListener("input", function () {
    var query = normalise(input.value);
    var shown = 0;
    items.forEach(function (item) {
      var box = item.querySelector("input");
      var match = !query || normalise(item.textContent).indexOf(query) !== -1 || (box && box.checked);
      item.hidden = !match;
      if (match) shown += 1;
    });
    count.textContent = query ? shown + "地区を表示しています。" : "";
  });
})();
