// Inside Telegram (the console opened as a Mini App from the bot's menu) the page's address
// ends in #tgWebAppData=...: Telegram's signed init data. Hand it to the server, which checks
// the signature and signs the staff member in. Elsewhere this does nothing.
(function () {
  var data = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData");
  var form = document.getElementById("telegram-sign-in");
  if (!data || !form) return;
  history.replaceState(null, "", location.pathname); // not left in the address or history
  form.elements.init_data.value = data;
  form.submit();
})();
