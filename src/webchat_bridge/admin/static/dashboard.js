/* The admin dashboard: sign-in, overview, sessions, transcript, configuration
 * and maintenance, all through the admin actions of the bridge API.
 *
 * Every piece of data reaches the page through textContent, element
 * properties or setAttribute, never through HTML parsing.
 */
(function () {
  "use strict";

  var ns = window.WebChatAdmin;
  var fmt = ns.format;
  var API = document.body.getAttribute("data-api") || "/api/v1/";
  var STORAGE_NAME = "webchat-bridge.admin-key";
  var REFRESH_MS = 30000;
  var SEARCH_DELAY_MS = 300;

  function $(id) { return document.getElementById(id); }

  // el("td", {className: "num", "data-label": "Messages"}, "3")
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null) return;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, String(value));
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function timeEl(text, form) {
    var date = fmt.parseUtc(text);
    var node = el("time", {
      datetime: date ? date.toISOString().replace(".000Z", "Z") : null,
      title: date ? fmt.dateTime(date) : null,
    });
    node.textContent = date ? (form === "short" ? fmt.shortDateTime(date) : fmt.dateTime(date))
      : (text ? String(text) : "—");
    return node;
  }

  // -- where the key lives ---------------------------------------------------

  function storages() {
    var found = [];
    [function () { return window.sessionStorage; }, function () { return window.localStorage; }]
      .forEach(function (get) { try { var s = get(); if (s) found.push(s); } catch (e) { /* blocked */ } });
    return found;
  }

  var keyStore = {
    get: function () {
      var list = storages();
      for (var i = 0; i < list.length; i++) {
        try { var v = list[i].getItem(STORAGE_NAME); if (v) return v; } catch (e) { /* blocked */ }
      }
      return null;
    },
    remembered: function () {
      try { return window.localStorage.getItem(STORAGE_NAME) !== null; } catch (e) { return false; }
    },
    set: function (key, remember) {
      this.forget();
      try { (remember ? window.localStorage : window.sessionStorage).setItem(STORAGE_NAME, key); }
      catch (e) { /* kept in memory only */ }
    },
    // A rotated admin key goes where the old one was.
    replace: function (key) { this.set(key, this.remembered()); },
    forget: function () {
      storages().forEach(function (s) { try { s.removeItem(STORAGE_NAME); } catch (e) { /* blocked */ } });
    },
  };

  // -- the API -----------------------------------------------------------------

  function ApiError(status, message, retryAfter) {
    this.name = "ApiError";
    this.status = status;
    this.message = message;
    this.retryAfter = retryAfter || 0;
  }
  ApiError.prototype = Object.create(Error.prototype);

  // Thrown for answers that arrive after a sign-out or sign-in: nobody wants them.
  function Superseded() { this.name = "Superseded"; }
  Superseded.prototype = Object.create(Error.prototype);

  var state = {
    key: null,
    generation: 0,
    view: null,
    sessionId: null,
    sessions: { active: true, search: "", offset: 0, limit: 25 },
    config: null,
    lastLoaded: 0,
  };

  function call(action, options) {
    options = options || {};
    var generation = state.generation;
    var key = options.key || state.key;
    var url = new URL(API, window.location.href);
    url.searchParams.set("action", action);
    Object.keys(options.params || {}).forEach(function (name) {
      url.searchParams.set(name, String(options.params[name]));
    });
    var init = {
      method: options.method || "GET",
      headers: { Authorization: "Bearer " + key, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    };
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return fetch(url.toString(), init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (payload) {
        if (generation !== state.generation) throw new Superseded();
        if (response.ok && payload && payload.success === true) return payload.data;
        var text = (payload && payload.error) || ("The bridge answered HTTP " + response.status);
        var retry = parseInt(response.headers.get("Retry-After") || "", 10);
        var error = new ApiError(response.status, text, isNaN(retry) ? 0 : retry);
        // A key being checked at sign-in is not yet the operator's key, and
        // an answer to the key just rotated away from says nothing of the new one.
        if (response.status === 401 && !options.key) {
          if (key !== state.key) throw new Superseded();
          expire();
        }
        throw error;
      });
    }, function () {
      if (generation !== state.generation) throw new Superseded();
      throw new ApiError(0, "The bridge could not be reached. Check the connection and try again.");
    });
  }

  // -- notices ---------------------------------------------------------------

  var noticeTimer = null;
  function notify(text, kind) {
    var box = $("notice");
    box.textContent = text;
    box.className = "notice" + (kind ? " notice-" + kind : "");
    box.hidden = false;
    clearTimeout(noticeTimer);
    if (kind !== "error") noticeTimer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  function clearNotice() { $("notice").hidden = true; clearTimeout(noticeTimer); }

  function report(error) {
    if (error instanceof Superseded) return;
    if (error && error.status === 401) return; // expire() has taken over
    if (error && error.status === 429) {
      notify("The bridge is rate limiting this dashboard; trying again in " +
        Math.max(1, error.retryAfter || 30) + " s.", "error");
      refresher.delay(error.retryAfter);
      return;
    }
    notify(error && error.message ? error.message : String(error), "error");
  }

  // -- single-flight loading and the 30 s refresh ----------------------------

  // Runs fn one call at a time: a request made while one is in flight runs
  // once after it, with whatever the state is by then.
  function singleFlight(fn) {
    var running = null;
    var again = false;
    return function run() {
      if (running) { again = true; return running; }
      running = (function loop() {
        again = false;
        return Promise.resolve().then(fn).catch(report).then(function () {
          if (again && state.key) return loop();
          return undefined;
        });
      })().then(function () { running = null; });
      return running;
    };
  }

  var refresher = {
    timer: null,
    extra: 0,
    start: function () {
      this.stop();
      if (!state.key || document.hidden) return;
      var wait = Math.max(REFRESH_MS, this.extra * 1000);
      this.extra = 0;
      this.timer = setTimeout(function () {
        refresher.timer = null;
        loadCurrent().then(function () { refresher.start(); });
      }, wait);
    },
    stop: function () { clearTimeout(this.timer); this.timer = null; },
    delay: function (seconds) { this.extra = Math.max(this.extra, seconds || 0); },
  };

  document.addEventListener("visibilitychange", function () {
    if (!state.key) return;
    if (document.hidden) { refresher.stop(); return; }
    // Back in view: catch up at once if a refresh was missed, then resume.
    if (Date.now() - state.lastLoaded >= REFRESH_MS) {
      loadCurrent().then(function () { refresher.start(); });
    } else {
      refresher.start();
    }
  });

  // -- overview ----------------------------------------------------------------

  var chart = new ns.BarChart($("chart"));

  function renderStats(data) {
    function put(name, text) {
      var node = document.querySelector('[data-stat="' + name + '"]');
      if (node) node.textContent = text;
    }
    ["sessions", "active_sessions", "messages", "unprocessed_messages", "responses"]
      .forEach(function (name) { put(name, fmt.number(data[name])); });
    put("mean_response", fmt.duration(data.mean_response_seconds));
    put("mean_response_note", data.mean_response_seconds === null ||
      data.mean_response_seconds === undefined
      ? "none answered in 24 h"
      : fmt.number(data.answered_messages_24h) + " answered in 24 h");
    var drawn = chart.render(data.messages_per_hour || []);
    $("chart-total").textContent = "Last 24 hours, your local time · " +
      fmt.plural(drawn.total, "message", "messages");
    $("overview-updated").textContent = "Updated " + fmt.time(fmt.parseUtc(data.generated_at) || new Date());
  }

  var loadOverview = singleFlight(function () {
    return call("stats").then(renderStats);
  });

  // -- sessions ----------------------------------------------------------------

  function sessionRow(s) {
    var href = "#session/" + encodeURIComponent(s.id);
    var row = el("tr", { "data-session": s.id, className: "clickable" },
      el("td", { "data-label": "Session", className: "cell-id" },
        el("a", { href: href, className: "mono", text: s.id })),
      el("td", { "data-label": "UID", className: "mono", text: s.uid || "—" }),
      el("td", { "data-label": "IP address", className: "mono", text: s.ip_address || "—" }),
      el("td", { "data-label": "Created" }, timeEl(s.created_at, "short")),
      el("td", { "data-label": "Last active" }, timeEl(s.last_active, "short")),
      el("td", { "data-label": "Messages", className: "num", text: fmt.number(s.message_count) }),
      el("td", { "data-label": "Responses", className: "num", text: fmt.number(s.response_count) })
    );
    return row;
  }

  function renderSessions(data, asked) {
    var rows = data.sessions || [];
    var page = data.pagination || { total: rows.length, limit: asked.limit, offset: asked.offset };
    var body = $("sessions-body");
    body.replaceChildren.apply(body, rows.map(sessionRow));
    var empty = $("sessions-empty");
    if (rows.length === 0) {
      var what = asked.active ? "active sessions" : "sessions";
      empty.textContent = asked.search
        ? "No " + what + " match “" + asked.search + "”."
        : (asked.active ? "No active sessions right now. Choose “All” to see older ones."
          : "No sessions yet.");
      empty.hidden = false;
    } else {
      empty.hidden = true;
    }
    $("sessions-table").classList.toggle("is-empty", rows.length === 0);
    var first = page.total === 0 ? 0 : page.offset + 1;
    var last = page.offset + rows.length;
    $("sessions-range").textContent = page.total === 0 ? "0 sessions"
      : fmt.number(first) + "–" + fmt.number(last) + " of " +
        fmt.plural(page.total, asked.active ? "active session" : "session",
          asked.active ? "active sessions" : "sessions");
    $("sessions-prev").disabled = page.offset <= 0;
    $("sessions-next").disabled = !page.has_more;
    $("sessions-updated").textContent = "Updated " + fmt.time(new Date()) + " · refreshes every 30 s";
  }

  var loadSessions = singleFlight(function () {
    var asked = {
      active: state.sessions.active,
      search: state.sessions.search,
      offset: state.sessions.offset,
      limit: state.sessions.limit,
    };
    var params = { limit: asked.limit, offset: asked.offset, active: asked.active ? "true" : "all" };
    if (asked.search) params.search = asked.search;
    return call("sessions", { params: params }).then(function (data) {
      var page = data.pagination || {};
      // A page emptied by cleanup: step back to the last page that has rows.
      if ((data.sessions || []).length === 0 && asked.offset > 0 && page.total > 0 &&
          asked.offset === state.sessions.offset) {
        state.sessions.offset = Math.max(0, Math.floor((page.total - 1) / asked.limit) * asked.limit);
        loadSessions();
        return;
      }
      renderSessions(data, asked);
    });
  });

  document.querySelectorAll('input[name="sessions-scope"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      state.sessions.active = radio.value === "active";
      state.sessions.offset = 0;
      loadSessions();
    });
  });

  var searchTimer = null;
  $("sessions-search").addEventListener("input", function (event) {
    clearTimeout(searchTimer);
    var value = event.target.value.trim();
    searchTimer = setTimeout(function () {
      if (value === state.sessions.search) return;
      state.sessions.search = value;
      state.sessions.offset = 0;
      loadSessions();
    }, SEARCH_DELAY_MS);
  });
  $("sessions-refresh").addEventListener("click", function () { loadSessions(); });
  $("sessions-prev").addEventListener("click", function () {
    state.sessions.offset = Math.max(0, state.sessions.offset - state.sessions.limit);
    loadSessions();
  });
  $("sessions-next").addEventListener("click", function () {
    state.sessions.offset += state.sessions.limit;
    loadSessions();
  });
  $("sessions-limit").addEventListener("change", function (event) {
    state.sessions.limit = parseInt(event.target.value, 10) || 25;
    state.sessions.offset = 0;
    loadSessions();
  });
  // A click anywhere on a row opens it; the link in the first cell is what
  // keyboards and screen readers use.
  $("sessions-body").addEventListener("click", function (event) {
    if (event.target.closest("a")) return;
    var row = event.target.closest("tr[data-session]");
    if (row) window.location.hash = "#session/" + encodeURIComponent(row.getAttribute("data-session"));
  });

  // -- transcript ----------------------------------------------------------------

  function timeValue(text) {
    var date = fmt.parseUtc(text);
    return date ? date.getTime() : Number.POSITIVE_INFINITY;
  }

  // Visitor messages and agent responses as one list, oldest first: by time,
  // then by id, and a visitor's message before an answer stamped the same
  // millisecond.
  function interleave(messages, responses) {
    var items = [];
    (messages || []).forEach(function (m) {
      items.push({ who: "visitor", id: m.id, text: m.message, at: m.timestamp });
    });
    (responses || []).forEach(function (r) {
      items.push({ who: "agent", id: r.id, text: r.response, at: r.timestamp, replyTo: r.message_id });
    });
    items.sort(function (a, b) {
      return (timeValue(a.at) - timeValue(b.at)) || (a.id - b.id) ||
        ((a.who === "visitor" ? 0 : 1) - (b.who === "visitor" ? 0 : 1));
    });
    return items;
  }

  function metaItem(term, value) {
    var dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    return [el("dt", { text: term }), dd];
  }

  function renderTranscript(data) {
    var s = data.session || {};
    $("transcript-id").textContent = s.id || state.sessionId;
    var meta = $("transcript-meta");
    var items = [
      metaItem("UID", s.uid || "—"),
      metaItem("IP address", s.ip_address || "—"),
      metaItem("Created", timeEl(s.created_at)),
      metaItem("Last active", timeEl(s.last_active)),
      metaItem("Messages", fmt.number((data.messages || []).length)),
      metaItem("Responses", fmt.number((data.responses || []).length)),
    ];
    if (s.metadata !== null && s.metadata !== undefined) {
      var text = typeof s.metadata === "string" ? s.metadata : JSON.stringify(s.metadata, null, 2);
      items.push(metaItem("Metadata", el("pre", { className: "metadata", text: text })));
    }
    meta.replaceChildren();
    items.forEach(function (pair) {
      var group = el("div", { className: "meta-item" }, pair[0], pair[1]);
      meta.appendChild(group);
    });

    var list = $("transcript");
    var entries = interleave(data.messages, data.responses).map(function (item) {
      var who = item.who === "visitor" ? "Visitor" : "Agent";
      return el("li", {
        className: "bubble " + item.who,
        "data-kind": item.who,
        "data-id": item.id,
      },
        el("div", { className: "bubble-head" },
          el("span", { className: "bubble-who", text: who }),
          timeEl(item.at)),
        el("div", { className: "bubble-text", text: item.text === null ? "" : String(item.text) })
      );
    });
    list.replaceChildren.apply(list, entries);
    $("transcript-empty").hidden = entries.length > 0;
    $("transcript-updated").textContent = "Updated " + fmt.time(new Date());
  }

  var loadTranscript = singleFlight(function () {
    var id = state.sessionId;
    return call("session_messages", { params: { session_id: id } }).then(function (data) {
      if (id === state.sessionId) renderTranscript(data);
    }, function (error) {
      if (error.status === 404 || error.status === 400) {
        $("transcript-id").textContent = id;
        $("transcript-meta").replaceChildren();
        $("transcript").replaceChildren();
        $("transcript-empty").hidden = false;
        $("transcript-empty").textContent = error.status === 404
          ? "This session no longer exists." : error.message;
        return;
      }
      throw error;
    });
  });

  // -- configuration ---------------------------------------------------------

  var settingForms = Array.prototype.slice.call(document.querySelectorAll("form[data-setting]"));

  function inputOf(form) { return form.querySelector("input"); }

  function formValue(form) {
    var input = inputOf(form);
    var kind = form.getAttribute("data-kind");
    if (kind === "bool") return input.checked;
    if (kind === "int") {
      var text = input.value.trim().replace(/[\s,_]/g, "");
      return /^-?\d+$/.test(text) ? parseInt(text, 10) : text;
    }
    return input.value.trim();
  }

  function setStatus(form, text, kind) {
    var status = form.querySelector(".setting-status");
    status.textContent = text || "";
    status.className = "setting-status small" + (kind ? " status-" + kind : "");
  }

  function updateHint(form) {
    var hint = form.querySelector("[data-hint]");
    var kind = form.getAttribute("data-kind");
    if (kind === "bool") {
      form.querySelector("[data-bool-text]").textContent = inputOf(form).checked ? "Enabled" : "Disabled";
    }
    if (!hint) return;
    var value = formValue(form);
    var unit = (form.querySelector(".unit") || {}).textContent;
    hint.textContent = unit === "seconds" && typeof value === "number" && value >= 60
      ? "= " + fmt.duration(value) : "";
  }

  function markDirty(form) {
    var original = form._original;
    var changed = formValue(form) !== original;
    form.querySelector('[data-act="save"]').disabled = form._pinned || !changed;
    updateHint(form);
  }

  function renderConfig(data) {
    state.config = data;
    var pinned = data.pinned || [];
    settingForms.forEach(function (form) {
      var name = form.getAttribute("data-setting");
      var input = inputOf(form);
      var value = data[name];
      if (form.getAttribute("data-kind") === "bool") input.checked = Boolean(value);
      else input.value = value === null || value === undefined ? "" : String(value);
      form._original = formValue(form);
      form._pinned = pinned.indexOf(name) !== -1;
      form.classList.toggle("is-pinned", form._pinned);
      input.disabled = form._pinned;
      input.readOnly = false;
      form.querySelectorAll("button").forEach(function (b) {
        var act = b.getAttribute("data-act");
        if (act === "generate" || act === "save") b.disabled = form._pinned;
      });
      var note = form.querySelector(".pinned-note");
      if (note) note.hidden = !form._pinned;
      markDirty(form);
    });
  }

  var loadConfig = singleFlight(function () {
    return call("config").then(renderConfig);
  });

  function generateKey() {
    var bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function reveal(form, shown) {
    var input = inputOf(form);
    var button = form.querySelector('[data-act="reveal"]');
    input.type = shown ? "text" : "password";
    button.textContent = shown ? "Hide" : "Reveal";
    button.setAttribute("aria-pressed", shown ? "true" : "false");
  }

  function saveSetting(form) {
    var name = form.getAttribute("data-setting");
    var value = formValue(form);
    var kind = form.getAttribute("data-kind");
    if (kind === "int" && typeof value !== "number") {
      setStatus(form, "Enter a whole number.", "error");
      inputOf(form).focus();
      return;
    }
    var body = {};
    body[name] = value;
    var save = form.querySelector('[data-act="save"]');
    save.disabled = true;
    setStatus(form, "Saving…");
    call("config", { method: "POST", body: body }).then(function () {
      // The new admin key opens the next request: keep the operator in.
      if (name === "admin_key") {
        state.key = value;
        keyStore.replace(value);
      }
      form._original = value;
      if (state.config) state.config[name] = value;
      if (kind === "key") reveal(form, false);
      setStatus(form, kind === "key" ? "Saved. The new key is in force."
        : "Saved.", "ok");
      markDirty(form);
    }, function (error) {
      if (error instanceof Superseded || error.status === 401) return;
      setStatus(form, error.message, "error");
      markDirty(form);
      if (error.status === 429) report(error);
    });
  }

  settingForms.forEach(function (form) {
    var input = inputOf(form);
    input.addEventListener("input", function () { setStatus(form, ""); markDirty(form); });
    input.addEventListener("change", function () { markDirty(form); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form._pinned) saveSetting(form);
    });
    form.querySelectorAll("button[data-act]").forEach(function (button) {
      var act = button.getAttribute("data-act");
      if (act === "reveal") {
        button.addEventListener("click", function () { reveal(form, input.type === "password"); });
      } else if (act === "generate") {
        button.addEventListener("click", function () {
          input.value = generateKey();
          reveal(form, true);
          markDirty(form);
          setStatus(form, form.getAttribute("data-setting") === "api_key"
            ? "New key generated. Save it, then give it to the agent's plugin."
            : "New key generated. Save it to use it from now on; keep a copy.", "info");
        });
      } else if (act === "copy") {
        button.addEventListener("click", function () {
          var text = input.value;
          if (!text) return;
          var done = function () { setStatus(form, "Copied to the clipboard.", "ok"); };
          if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(text).then(done, function () {
              setStatus(form, "The browser refused the clipboard; reveal and copy by hand.", "error");
            });
          } else {
            reveal(form, true);
            input.select();
            setStatus(form, "Selected: press Ctrl+C (or ⌘C) to copy.", "info");
          }
        });
      }
    });
  });

  // -- maintenance -------------------------------------------------------------

  function busy(button, text) {
    var label = button.textContent;
    button.disabled = true;
    button.textContent = text;
    return function () { button.textContent = label; button.disabled = false; };
  }

  function result(node, text, kind) {
    node.textContent = text;
    node.className = "result small" + (kind ? " status-" + kind : "");
  }

  $("do-cleanup").addEventListener("click", function () {
    var done = busy($("do-cleanup"), "Cleaning up…");
    result($("cleanup-result"), "");
    call("cleanup", { method: "POST" }).then(function (data) {
      result($("cleanup-result"), "Removed " +
        fmt.plural(data.cleaned_count, "inactive session", "inactive sessions") + ".", "ok");
    }, function (error) {
      if (!(error instanceof Superseded) && error.status !== 401) {
        result($("cleanup-result"), error.message, "error");
      }
    }).then(done);
  });

  var LOG_FIGURES = [
    ["current_log_size_mb", "Current log", function (v) { return v + " MB"; }],
    ["backup_files_count", "Backup files", fmt.number],
    ["total_log_size_mb", "Total size", function (v) { return v + " MB"; }],
    ["removed_files_count", "Backups removed", fmt.number],
    ["retention_days", "Retention", function (v) { return fmt.plural(v, "day", "days"); }],
    ["max_size_mb", "Rotates at", function (v) { return v + " MB"; }],
  ];

  $("do-cleanup-logs").addEventListener("click", function () {
    var done = busy($("do-cleanup-logs"), "Cleaning up…");
    var figures = $("cleanup-logs-result");
    result($("cleanup-logs-status"), "");
    call("cleanup_logs", { method: "POST" }).then(function (data) {
      result($("cleanup-logs-status"), data.message || "Log cleanup completed.", "ok");
      figures.replaceChildren();
      LOG_FIGURES.forEach(function (f) {
        if (data[f[0]] === undefined) return;
        figures.appendChild(el("div", { "data-figure": f[0] },
          el("dt", { text: f[1] }), el("dd", { text: f[2](data[f[0]]) })));
      });
      figures.hidden = false;
    }, function (error) {
      if (!(error instanceof Superseded) && error.status !== 401) {
        result($("cleanup-logs-status"), error.message, "error");
      }
    }).then(done);
  });

  var CONFIRM_WORD = "DELETE";
  $("clear-confirm").addEventListener("input", function (event) {
    $("do-clear").disabled = event.target.value !== CONFIRM_WORD;
  });
  $("clear-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var confirmBox = $("clear-confirm");
    if (confirmBox.value !== CONFIRM_WORD) { $("do-clear").disabled = true; return; }
    var button = $("do-clear");
    button.disabled = true;
    button.textContent = "Clearing…";
    result($("clear-result"), "");
    call("clear_data", { method: "POST" }).then(function (data) {
      var left = data.remaining_data || {};
      result($("clear-result"), "All data cleared. Remaining: " +
        fmt.plural(left.sessions || 0, "session", "sessions") + ", " +
        fmt.plural(left.messages || 0, "message", "messages") + ", " +
        fmt.plural(left.responses || 0, "response", "responses") + ".", "ok");
      confirmBox.value = "";
    }, function (error) {
      if (!(error instanceof Superseded) && error.status !== 401) {
        result($("clear-result"), error.message, "error");
      }
    }).then(function () {
      button.textContent = "Clear all data";
      button.disabled = confirmBox.value !== CONFIRM_WORD;
    });
  });

  // -- views and routing -------------------------------------------------------

  var LOADERS = {
    overview: function () { return loadOverview(); },
    sessions: function () { return loadSessions(); },
    transcript: function () { return loadTranscript(); },
    config: function () { return loadConfig(); },
    maintenance: function () { return Promise.resolve(); },
  };
  // The configuration form is not reloaded under the operator's fingers.
  var REFRESHED = { overview: true, sessions: true, transcript: true };

  function loadCurrent() {
    if (!state.key || !REFRESHED[state.view]) return Promise.resolve();
    state.lastLoaded = Date.now();
    return LOADERS[state.view]();
  }

  function parseHash() {
    var hash = window.location.hash.replace(/^#/, "");
    if (hash.indexOf("session/") === 0) {
      var id = "";
      try { id = decodeURIComponent(hash.slice(8)); } catch (e) { id = ""; }
      if (id) return { view: "transcript", sessionId: id };
    }
    return { view: LOADERS[hash] ? hash : "overview" };
  }

  var TITLES = {
    overview: "Overview", sessions: "Sessions", transcript: "Session",
    config: "Configuration", maintenance: "Maintenance",
  };

  function route() {
    if (!state.key) return;
    var target = parseHash();
    var changed = target.view !== state.view || target.sessionId !== state.sessionId;
    state.view = target.view;
    state.sessionId = target.sessionId || null;
    document.querySelectorAll("[data-view]").forEach(function (section) {
      section.hidden = section.getAttribute("data-view") !== state.view;
    });
    var nav = state.view === "transcript" ? "sessions" : state.view;
    document.querySelectorAll("[data-nav]").forEach(function (link) {
      if (link.getAttribute("data-nav") === nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    document.title = TITLES[state.view] + " · Web Chat Bridge admin";
    if (changed && state.view === "transcript") {
      $("transcript-id").textContent = state.sessionId;
      $("transcript-meta").replaceChildren();
      $("transcript").replaceChildren();
      $("transcript-empty").hidden = true;
    }
    state.lastLoaded = Date.now();
    LOADERS[state.view]().then(function () { refresher.start(); });
  }

  window.addEventListener("hashchange", function () {
    route();
    $("main").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  });

  // -- signing in and out ------------------------------------------------------

  function wipe() {
    // Nothing read with the key stays on screen without it.
    refresher.stop();
    clearNotice();
    chart.clear();
    document.querySelectorAll("[data-stat]").forEach(function (n) { n.textContent = "–"; });
    ["sessions-body", "transcript", "transcript-meta", "cleanup-logs-result"].forEach(function (id) {
      $(id).replaceChildren();
    });
    ["overview-updated", "sessions-updated", "sessions-range", "chart-total", "transcript-updated",
      "cleanup-result", "cleanup-logs-status", "clear-result"].forEach(function (id) {
      $(id).textContent = "";
    });
    $("cleanup-logs-result").hidden = true;
    $("clear-confirm").value = "";
    $("do-clear").disabled = true;
    settingForms.forEach(function (form) {
      var input = inputOf(form);
      if (form.getAttribute("data-kind") === "key") { input.value = ""; reveal(form, false); }
      setStatus(form, "");
    });
    state.config = null;
    state.view = null;
    state.sessionId = null;
  }

  function showSignIn(message) {
    $("app").hidden = true;
    $("signin").hidden = false;
    var error = $("signin-error");
    error.textContent = message || "";
    error.hidden = !message;
    var box = $("signin-key");
    box.value = "";
    box.focus();
  }

  function signOut(message) {
    state.generation += 1;
    state.key = null;
    keyStore.forget();
    wipe();
    showSignIn(message);
  }

  function expire() {
    if (!state.key) return;
    signOut("The admin key is no longer accepted. Sign in again with the current key.");
  }

  function enter(key) {
    state.generation += 1;
    state.key = key;
    $("signin").hidden = true;
    $("signin-error").hidden = true;
    $("app").hidden = false;
    route();
  }

  $("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var key = $("signin-key").value.trim();
    var error = $("signin-error");
    if (!key) {
      error.textContent = "Enter the admin key.";
      error.hidden = false;
      return;
    }
    var button = $("signin-submit");
    button.disabled = true;
    button.textContent = "Checking…";
    error.hidden = true;
    call("config", { key: key }).then(function () {
      keyStore.set(key, $("signin-remember").checked);
      $("signin-key").value = "";
      enter(key);
    }, function (failure) {
      if (failure instanceof Superseded) return;
      error.textContent = failure.status === 401
        ? "That admin key was not accepted." : failure.message;
      error.hidden = false;
      $("signin-key").select();
    }).then(function () {
      button.disabled = false;
      button.textContent = "Sign in";
    });
  });

  $("signout").addEventListener("click", function () { signOut(""); });

  // -- start ---------------------------------------------------------------------

  var stored = keyStore.get();
  if (stored) enter(stored); else showSignIn("");
})();
