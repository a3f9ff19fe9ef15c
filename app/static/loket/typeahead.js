/* Type-ahead selects (app.views.typeahead): a select2 that asks the table's grid for at most
   20 matches as the officer types (GET <grid>/lookup?q=...), instead of listing every row.
   Loaded by each type-ahead field; sets itself up once, when the page is ready. */
(function ($) {
  "use strict";
  if (!$ || window.loketTypeAheadReady) { return; }
  window.loketTypeAheadReady = true;

  function setUp(select) {
    var message = function (name) { return function () { return select.attr("data-msg-" + name) || ""; }; };
    select.select2({
      theme: "bootstrap",
      width: "100%",
      allowClear: true,
      placeholder: select.attr("data-placeholder") || "",
      minimumInputLength: 1,
      ajax: {
        url: select.attr("data-lookup-url"),
        dataType: "json",
        delay: 250,
        data: function (params) { return {q: params.term || ""}; },
        processResults: function (data) { return {results: data.results || []}; }
      },
      language: {
        inputTooShort: message("too-short"),
        searching: message("searching"),
        noResults: message("no-results"),
        errorLoading: message("error")
      }
    });
  }

  $(function () {
    $("select.loket-typeahead").each(function () { setUp($(this)); });
  });
}(window.jQuery));
