/* The widget demo page: applies the form's options with SanctumChat.init and
   shows the matching embed tag, as /widget/init resolves it. */
(function () {
  'use strict';
  var form = document.getElementById('demo-form');
  var embed = document.getElementById('demo-embed');
  var error = document.getElementById('demo-error');
  var events = document.getElementById('demo-events');
  var noEvents = document.getElementById('demo-no-events');

  function values() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name) out[field.name] = field.value;
    });
    return out;
  }

  function log(text) {
    var item = document.createElement('li');
    item.textContent = new Date().toLocaleTimeString() + ' — ' + text;
    events.insertBefore(item, events.firstChild);
    noEvents.hidden = true;
    while (events.children.length > 8) events.removeChild(events.lastChild);
  }

  var listening = false;
  function listen() {
    if (listening || !window.SanctumChat) return;
    listening = true;
    ['open', 'close', 'message', 'error'].forEach(function (name) {
      window.SanctumChat.on(name, function (detail) {
        log(name + (detail && detail.text ? ': ' + detail.text : detail && detail.message ? ': ' + detail.message : ''));
      });
    });
  }

  function apply() {
    var options = values();
    var query = new URLSearchParams(options).toString();
    fetch('init?' + query, { cache: 'no-store' }).then(function (response) {
      return response.json();
    }).then(function (body) {
      if (!body.success) {
        error.textContent = body.error;
        error.hidden = false;
        return;
      }
      error.hidden = true;
      embed.textContent = body.data.embed;
      if (window.SanctumChat) {
        listen();
        var config = body.data.config;
        window.SanctumChat.init(config);
      }
    }).catch(function () {
      error.textContent = 'The bridge cannot be reached.';
      error.hidden = false;
    });
  }

  form.addEventListener('submit', function (event) { event.preventDefault(); apply(); });
  document.getElementById('demo-open').addEventListener('click', function () { if (window.SanctumChat) window.SanctumChat.open(); });
  document.getElementById('demo-close').addEventListener('click', function () { if (window.SanctumChat) window.SanctumChat.close(); });
  document.getElementById('demo-clear').addEventListener('click', function () { if (window.SanctumChat) window.SanctumChat.clearChat(); });
  window.addEventListener('load', listen);
})();
