// Registers the page's language for plotly.js's own controls and numbers (the words and
// separators come from the page: {% plotly_locale_json %}), before the charts are drawn.
// Loaded (deferred) after plotly.js and before the scripts that draw.
(function () {
  "use strict";
  var source = document.getElementById("plotly-locale");
  if (!source || !window.Plotly) { return; }
  var locale = JSON.parse(source.textContent);
  window.Plotly.register({ moduleType: "locale", name: locale.name, dictionary: locale.dictionary, format: locale.format });
  window.Plotly.setPlotConfig({ locale: locale.name });
})();
