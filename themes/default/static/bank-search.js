// 口座振替の申込み: suggestions for the bank and branch fields while the citizen types.
// Progressive enhancement: the fields are plain text inputs that the server resolves by
// name, kana or code (and answers an ambiguous name with a list of candidates); this script
// only adds a <datalist> of real banks / branches from /procedures/banks(?q=) and
// /procedures/banks/branches(?bank=&q=). Choosing a suggestion fills in "0116 北海道銀行",
// whose leading code the server reads. Keyboard: the browser's own datalist handling.
(function () {
  "use strict";
  var bank = document.getElementById("f-bank");
  var branch = document.getElementById("f-branch");
  if (!bank || !window.fetch) { return; }

  function attach(input, id) {
    var list = document.createElement("datalist");
    list.id = id;
    input.parentNode.appendChild(list);
    input.setAttribute("list", id);
    return list;
  }

  function fill(list, items) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.label;
      option.textContent = item.kana;
      list.appendChild(option);
    });
  }

  function suggest(input, list, url, key) {
    var timer = null;
    var last = null;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var address = url();
        if (!address || address === last) { return; }
        last = address;
        window.fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : {}; })
          .then(function (data) { fill(list, data[key] || []); })
          .catch(function () { /* the server still resolves what was typed */ });
      }, 200);
    });
  }

  var bankList = attach(bank, "bank-suggestions");
  suggest(bank, bankList, function () {
    var q = bank.value.trim();
    return q ? "/procedures/banks?q=" + encodeURIComponent(q) : null;
  }, "banks");
  // The bank's code: typed or chosen ("0116 北海道銀行"), else the suggestion the typed name
  // names exactly ("北海道" or "北海道銀行"), else the only suggestion.
  function bankCode() {
    var typed = bank.value.trim();
    var code = typed.match(/^[0-9０-９]{4}/);
    if (code) { return code[0]; }
    var found = null;
    var choices = bankList.querySelectorAll("option");
    choices.forEach(function (option) {
      var name = option.value.slice(5);
      if (name === typed || name === typed + "銀行") { found = option.value.slice(0, 4); }
    });
    if (!found && choices.length === 1) { found = choices[0].value.slice(0, 4); }
    return found;
  }

  if (branch) {
    var branchList = attach(branch, "branch-suggestions");
    suggest(branch, branchList, function () {
      var code = bankCode();
      return code ? "/procedures/banks/branches?bank=" + encodeURIComponent(code) +
        "&q=" + encodeURIComponent(branch.value.trim()) : null;
    }, "branches");
  }
}());
