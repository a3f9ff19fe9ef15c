/* Date fields (app/dates.py): dd/mm/yyyy typed or picked, in Indonesian.
 *
 * bootstrap-datepicker (bundled by Flask-AppBuilder) with the Indonesian month and day names of
 * its own locale file (app/static/vendor/bootstrap-datepicker/), and a format of our own that
 * reads dd/mm/yyyy (also with - or .) and ISO yyyy-mm-dd, and writes dd/mm/yyyy. What it cannot
 * read is left in the field as typed or pasted (forceParse off, the picker's paste handler
 * removed): the server then says what is wrong instead of the field silently emptying.
 * Each date field loads this file; it sets the fields up once.
 */
(function ($) {
  "use strict";
  if (!$ || !$.fn.datepicker || window.loketDatepickerReady) {
    return;
  }
  window.loketDatepickerReady = true;

  var DMY = /^(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})$/;
  var YMD = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

  function utcDay(year, month, day) {
    var date = new Date(Date.UTC(year, month - 1, day));
    // 31/02/2019 would roll over into March: no such day.
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return undefined;
    }
    return date;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  var FORMAT = {
    toValue: function (text) {
      text = String(text || "").trim();
      var m = DMY.exec(text);
      if (m) {
        return utcDay(+m[3], +m[2], +m[1]);
      }
      m = YMD.exec(text);
      if (m) {
        return utcDay(+m[1], +m[2], +m[3]);
      }
      return undefined;
    },
    toDisplay: function (date) {
      return pad(date.getUTCDate()) + "/" + pad(date.getUTCMonth() + 1) + "/" + date.getUTCFullYear();
    }
  };

  $(function () {
    $(".loket-date").each(function () {
      var group = $(this);
      group.datepicker({
        format: FORMAT,
        language: $.fn.datepicker.dates.id ? "id" : "en",
        weekStart: 1,
        forceParse: false,
        autoclose: true,
        todayHighlight: true
      });
      group.find("input").off("paste");
    });
  });
})(window.jQuery);
