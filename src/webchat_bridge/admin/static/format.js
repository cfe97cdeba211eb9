/* Reading the bridge's times and writing figures for people.
 *
 * Two time forms arrive from the API: message and response times carry a
 * "Z" ("2025-08-04T03:08:55.484Z"); session times are SQLite's
 * "2025-08-04 03:08:53", which is UTC too but says so nowhere, and a browser
 * would read it as local time if handed over as it is.
 */
(function () {
  "use strict";

  var NAIVE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

  function parseUtc(text) {
    if (text === null || text === undefined || text === "") return null;
    var value = String(text).trim();
    var naive = NAIVE.exec(value);
    if (naive) value = naive[1] + "T" + naive[2] + "Z";
    var ms = Date.parse(value);
    return isNaN(ms) ? null : new Date(ms);
  }

  var full = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  var short = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
  var clock = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  var hourOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  var numbers = new Intl.NumberFormat();

  function dateTime(date) { return date ? full.format(date) : "—"; }
  function shortDateTime(date) { return date ? short.format(date) : "—"; }
  function time(date) { return date ? clock.format(date) : "—"; }
  function hour(date) { return date ? hourOnly.format(date) : ""; }
  function number(n) { return typeof n === "number" && isFinite(n) ? numbers.format(n) : "—"; }

  function plural(n, one, many) { return number(n) + " " + (n === 1 ? one : many); }

  // 0.42 → "0.4 s", 75 → "1 min 15 s", 7260 → "2 h 1 min", 90000 → "1 d 1 h".
  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    var s = Math.max(0, Number(seconds));
    if (s < 10) return (Math.round(s * 10) / 10).toFixed(1) + " s";
    if (s < 60) return Math.round(s) + " s";
    var whole = Math.round(s);
    var days = Math.floor(whole / 86400);
    var hours = Math.floor((whole % 86400) / 3600);
    var minutes = Math.floor((whole % 3600) / 60);
    var secs = whole % 60;
    if (days) return days + " d" + (hours ? " " + hours + " h" : "");
    if (hours) return hours + " h" + (minutes ? " " + minutes + " min" : "");
    return minutes + " min" + (secs ? " " + secs + " s" : "");
  }

  window.WebChatAdmin = window.WebChatAdmin || {};
  window.WebChatAdmin.format = {
    parseUtc: parseUtc,
    dateTime: dateTime,
    shortDateTime: shortDateTime,
    time: time,
    hour: hour,
    number: number,
    plural: plural,
    duration: duration,
  };
})();
