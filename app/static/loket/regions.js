/* Dependent region selects (app.forms.desa_field): the desa select lists only the desa of the
   chosen kecamatan; when the officer chooses another kecamatan, it is emptied and filled with
   that kecamatan's desa (GET /regions/desa?kecamatan=...). The server checks the pair again.
   Loaded by each desa field; sets itself up once, when the page is ready. */
(function ($) {
  "use strict";
  if (!$ || window.loketRegionsReady) { return; }
  window.loketRegionsReady = true;

  function follow(desa) {
    var kecamatan = $("#" + desa.attr("data-kecamatan-select"));
    if (!kecamatan.length) { return; }
    var asked = 0;
    kecamatan.on("change", function () {
      var code = kecamatan.val() || "";
      var ask = ++asked;
      desa.find("option").filter(function () { return this.value !== ""; }).remove();
      desa.val("").trigger("change");
      if (!code) { return; }
      $.getJSON(desa.attr("data-options-url"), {kecamatan: code}).done(function (data) {
        if (ask !== asked) { return; }  // a later kecamatan's answer counts, not this one
        $.each(data.results || [], function (_, row) {
          desa.append(new Option(row.text, row.id));
        });
        desa.trigger("change");
      }).fail(function () {
        if (ask !== asked) { return; }
        desa.append(new Option(desa.attr("data-msg-error") || "", "", false, false));
        desa.find("option").last().prop("disabled", true);
        desa.trigger("change");
      });
    });
  }

  $(function () {
    $("select.loket-desa").each(function () { follow($(this)); });
  });
}(window.jQuery));
