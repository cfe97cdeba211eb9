/*
 * The conversation logic shared by the chat page and the embeddable widget:
 * session and uid persistence, sending with retry, single-flight polling of
 * `responses` with `since_id`, back-off, and a renderer that only ever uses
 * textContent. The widget bundle wraps this file in its own closure, so the
 * one name it declares stays private there.
 */
var ChatCore = (function () {
  'use strict';

  var DEFAULTS = {
    pollVisibleMs: 2000,
    pollHiddenMs: 15000,
    typingTimeoutMs: 60000,
    maxBackoffMs: 30000,
    requestTimeoutMs: 15000
  };

  // -- identifiers ------------------------------------------------------------

  function randomBase36(length) {
    var bytes = new Uint8Array(length);
    window.crypto.getRandomValues(bytes);
    var out = '';
    for (var i = 0; i < length; i++) {
      // 252 is the largest multiple of 36 below 256: rejecting above it keeps
      // every digit equally likely.
      while (bytes[i] >= 252) {
        var one = new Uint8Array(1);
        window.crypto.getRandomValues(one);
        bytes[i] = one[0];
      }
      out += (bytes[i] % 36).toString(36);
    }
    return out;
  }

  // The PHP chat page's form: session_<base36 time>_<random>.
  function newSessionId() {
    return 'session_' + Date.now().toString(36) + '_' + randomBase36(9);
  }

  var UID = /^[0-9a-f]{16}$/;
  var SESSION = /^[A-Za-z0-9_-]{1,64}$/;

  // -- storage ----------------------------------------------------------------

  // localStorage can be missing or throw (private modes, sandboxed frames,
  // quota); the conversation then lives for the page only.
  function Store(key) {
    this.key = key;
    this.memory = null;
  }
  Store.prototype.load = function () {
    try {
      var text = window.localStorage.getItem(this.key);
      return text ? JSON.parse(text) : null;
    } catch (err) {
      return this.memory;
    }
  };
  Store.prototype.save = function (value) {
    this.memory = value;
    try {
      window.localStorage.setItem(this.key, JSON.stringify(value));
    } catch (err) { /* kept in memory */ }
  };

  // -- events -----------------------------------------------------------------

  function Emitter() { this.handlers = {}; }
  Emitter.prototype.on = function (name, fn) {
    (this.handlers[name] = this.handlers[name] || []).push(fn);
  };
  Emitter.prototype.off = function (name, fn) {
    var list = this.handlers[name];
    if (!list) return;
    this.handlers[name] = fn ? list.filter(function (f) { return f !== fn; }) : [];
  };
  Emitter.prototype.emit = function (name, payload) {
    var list = (this.handlers[name] || []).slice();
    for (var i = 0; i < list.length; i++) {
      try { list[i](payload); } catch (err) {
        if (window.console) window.console.warn('chat handler for "' + name + '" failed', err);
      }
    }
  };

  // -- HTTP -------------------------------------------------------------------

  function RequestError(kind, status, text, retryAfter) {
    this.kind = kind;          // "network", "limited", "server", "refused"
    this.status = status;
    this.message = text;
    this.retryAfter = retryAfter;
  }

  function retryAfterSeconds(response, body) {
    var header = response.headers.get('Retry-After');
    var seconds = header !== null ? parseInt(header, 10) : NaN;
    if (isNaN(seconds) && body && typeof body.retry_after === 'number') seconds = body.retry_after;
    return isNaN(seconds) ? 5 : Math.max(1, seconds);
  }

  function callApi(url, init, timeoutMs) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeoutMs) : null;
    if (controller) init.signal = controller.signal;
    init.credentials = 'omit';
    init.cache = 'no-store';
    return window.fetch(url, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.status === 429) {
          throw new RequestError('limited', 429, 'Too many requests', retryAfterSeconds(response, body));
        }
        if (!response.ok || !body || body.success !== true) {
          var text = body && body.error ? body.error : 'HTTP ' + response.status;
          throw new RequestError(response.status >= 500 ? 'server' : 'refused', response.status, text);
        }
        return body.data;
      });
    }, function () {
      throw new RequestError('network', 0, 'The chat service cannot be reached');
    }).then(function (data) {
      if (timer) clearTimeout(timer);
      return data;
    }, function (err) {
      if (timer) clearTimeout(timer);
      throw err;
    });
  }

  // -- the conversation ---------------------------------------------------------

  function Conversation(options) {
    Emitter.call(this);
    this.options = {};
    for (var k in DEFAULTS) this.options[k] = DEFAULTS[k];
    for (var o in options) this.options[o] = options[o];
    this.apiBase = options.apiBase;
    this.store = new Store(options.storageKey);
    this.state = this._loadState();
    this.cursor = 0;            // highest response id seen on this page
    this.timer = null;
    this.inFlight = false;
    this.active = false;
    this.stopped = false;
    this.failures = 0;
    this.backoffUntil = 0;
    this.status = 'idle';
    this.typingUntil = 0;
    this.typingTimer = null;
    this.counter = 0;
    var self = this;
    this._onVisibility = function () {
      if (!document.hidden && self.active && !self.inFlight && Date.now() >= self.backoffUntil) {
        self._schedule(0);
      }
    };
    document.addEventListener('visibilitychange', this._onVisibility);
  }
  Conversation.prototype = Object.create(Emitter.prototype);
  Conversation.prototype.constructor = Conversation;

  Conversation.prototype._loadState = function () {
    var saved = this.store.load();
    var state = {
      sessionId: saved && SESSION.test(saved.sessionId || '') ? saved.sessionId : newSessionId(),
      uid: saved && UID.test(saved.uid || '') ? saved.uid : null,
      items: saved && Array.isArray(saved.items) ? saved.items.filter(validItem) : [],
      draft: saved && typeof saved.draft === 'string' ? saved.draft : ''
    };
    // A message still "sending" when the last page went away may or may not
    // have arrived; the visitor decides, with the retry button.
    state.items.forEach(function (item) {
      if (item.status === 'sending') {
        item.status = 'failed';
        item.error = 'Not confirmed before the page closed';
      }
    });
    if (!saved) this.store.save(state);
    return state;
  };

  function validItem(item) {
    return item && typeof item.text === 'string' && typeof item.key === 'string' &&
      (item.role === 'visitor' || item.role === 'agent');
  }

  Conversation.prototype._save = function () { this.store.save(this.state); };

  Conversation.prototype._changed = function () {
    this._save();
    this.emit('change', this.state.items);
  };

  Conversation.prototype._setStatus = function (status, detail) {
    if (status === this.status && !detail) return;
    this.status = status;
    this.emit('status', { status: status, detail: detail || '' });
  };

  Conversation.prototype.isTyping = function () { return this.typingUntil > Date.now(); };

  Conversation.prototype._setTyping = function (until) {
    var self = this;
    var was = this.isTyping();
    this.typingUntil = until;
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = null;
    if (until > Date.now()) {
      this.typingTimer = setTimeout(function () { self._setTyping(0); }, until - Date.now());
    }
    if (was !== this.isTyping()) this.emit('typing', this.isTyping());
  };

  Conversation.prototype.setDraft = function (text) {
    this.state.draft = text;
    this._save();
  };

  /** Start polling: at once, from since_id 0, to merge what the server has. */
  Conversation.prototype.activate = function () {
    if (this.active || this.stopped) return;
    this.active = true;
    if (this.status === 'idle') this._setStatus('connecting');
    this._schedule(0);
  };

  Conversation.prototype.send = function (text) {
    var clean = String(text == null ? '' : text).replace(/\u0000/g, '').trim();
    if (!clean) return Promise.reject(new RequestError('refused', 400, 'Empty message'));
    var item = {
      key: 'local-' + Date.now().toString(36) + '-' + (++this.counter) + '-' + randomBase36(4),
      role: 'visitor',
      id: null,
      text: clean,
      timestamp: null,
      createdAt: new Date().toISOString(),
      status: 'sending'
    };
    this.state.items.push(item);
    this._changed();
    return this._deliver(item);
  };

  Conversation.prototype.retry = function (key) {
    var item = this.find(key);
    if (!item || item.status !== 'failed') return Promise.resolve(item);
    item.status = 'sending';
    delete item.error;
    this._changed();
    return this._deliver(item);
  };

  Conversation.prototype.find = function (key) {
    for (var i = 0; i < this.state.items.length; i++) {
      if (this.state.items[i].key === key) return this.state.items[i];
    }
    return null;
  };

  Conversation.prototype._deliver = function (item) {
    var self = this;
    var session = this.state.sessionId;
    var body = { session_id: session, message: item.text };
    if (this.state.uid) body.uid = this.state.uid;
    return callApi(this.apiBase + '?action=messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    }, this.options.requestTimeoutMs).then(function (data) {
      if (self.stopped || session !== self.state.sessionId) return item;
      item.id = data.message_id;
      item.timestamp = data.timestamp;
      item.status = 'sent';
      if (data.uid && UID.test(data.uid)) self.state.uid = data.uid;
      self._changed();
      self._setStatus('online');
      self.emit('sent', item);
      self._setTyping(Date.now() + self.options.typingTimeoutMs);
      if (!self.active) self.activate();
      else if (!self.inFlight && Date.now() >= self.backoffUntil) self._schedule(300);
      return item;
    }, function (err) {
      if (self.stopped || session !== self.state.sessionId) return item;
      item.status = 'failed';
      item.error = err.kind === 'limited'
        ? 'Too many messages; try again in ' + err.retryAfter + ' s'
        : err.kind === 'network' ? 'Not sent: no connection' : 'Not sent: ' + err.message;
      self._changed();
      if (err.kind === 'network' || err.kind === 'server') self._setStatus('offline');
      self.emit('error', { during: 'send', kind: err.kind, message: err.message, item: item });
      return item;
    });
  };

  Conversation.prototype._schedule = function (delay) {
    var self = this;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || !this.active) return;
    this.timer = setTimeout(function () { self.timer = null; self._poll(); }, Math.max(0, delay));
  };

  Conversation.prototype._nextDelay = function () {
    return document.hidden ? this.options.pollHiddenMs : this.options.pollVisibleMs;
  };

  Conversation.prototype._poll = function () {
    // Single flight: the next poll is only ever scheduled when this one ends.
    if (this.inFlight || this.stopped) return;
    this.inFlight = true;
    var self = this;
    var session = this.state.sessionId;
    var url = this.apiBase + '?action=responses&session_id=' + encodeURIComponent(session) +
      '&since_id=' + this.cursor;
    callApi(url, { method: 'GET' }, this.options.requestTimeoutMs).then(function (data) {
      self.inFlight = false;
      if (self.stopped) return;
      if (session === self.state.sessionId) self._merge(data.responses || []);
      self.failures = 0;
      self.backoffUntil = 0;
      self._setStatus('online');
      self._schedule(self._nextDelay());
    }, function (err) {
      self.inFlight = false;
      if (self.stopped) return;
      var delay;
      if (err.kind === 'limited') {
        delay = err.retryAfter * 1000;
        self._setStatus('limited', 'retrying in ' + err.retryAfter + ' s');
      } else {
        self.failures += 1;
        delay = Math.min(self.options.maxBackoffMs,
          self.options.pollVisibleMs * Math.pow(2, self.failures - 1));
        self._setStatus('offline', 'retrying in ' + Math.round(delay / 1000) + ' s');
      }
      self.backoffUntil = Date.now() + delay;
      self.emit('error', { during: 'poll', kind: err.kind, message: err.message });
      self._schedule(delay);
    });
  };

  Conversation.prototype._merge = function (responses) {
    var items = this.state.items;
    var known = {};
    items.forEach(function (item) { if (item.role === 'agent') known[item.id] = true; });
    var fresh = [];
    for (var i = 0; i < responses.length; i++) {
      var r = responses[i];
      if (typeof r.id !== 'number') continue;
      if (r.id > this.cursor) this.cursor = r.id;   // the cursor only moves forward
      if (known[r.id]) continue;
      known[r.id] = true;
      var item = {
        key: 'agent-' + r.id, role: 'agent', id: r.id, text: String(r.response),
        timestamp: r.timestamp, messageId: r.message_id, status: 'sent'
      };
      insertInTimeOrder(items, item);
      fresh.push(item);
    }
    if (!fresh.length) return;
    var newest = fresh[fresh.length - 1].timestamp || '';
    var lastSent = lastVisitorTimestamp(items);
    if (!lastSent || newest >= lastSent) this._setTyping(0);
    this._changed();
    for (var j = 0; j < fresh.length; j++) this.emit('response', fresh[j]);
  };

  function lastVisitorTimestamp(items) {
    for (var i = items.length - 1; i >= 0; i--) {
      if (items[i].role === 'visitor' && items[i].timestamp) return items[i].timestamp;
    }
    return null;
  }

  // Server timestamps are fixed-width UTC text, so text order is time order.
  // Messages not yet on the server stay last, next to their retry button.
  function insertInTimeOrder(items, item) {
    for (var i = 0; i < items.length; i++) {
      var other = items[i];
      if (!other.timestamp || other.timestamp > item.timestamp) {
        items.splice(i, 0, item);
        return;
      }
    }
    items.push(item);
  }

  /** A fresh session (the uid stays, so the agent knows the visitor). */
  Conversation.prototype.reset = function () {
    this.state = { sessionId: newSessionId(), uid: this.state.uid, items: [], draft: this.state.draft };
    this.cursor = 0;
    this.failures = 0;
    this.backoffUntil = 0;
    this._setTyping(0);
    this._changed();
    if (this.active && !this.inFlight) this._schedule(0);
  };

  Conversation.prototype.stop = function () {
    this.stopped = true;
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.typingTimer) clearTimeout(this.typingTimer);
    document.removeEventListener('visibilitychange', this._onVisibility);
    this.handlers = {};
  };

  // -- rendering --------------------------------------------------------------

  function formatTime(timestamp) {
    if (!timestamp) return '';
    var date = new Date(timestamp);   // message times carry "Z": read as UTC
    if (isNaN(date.getTime())) return '';
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function el(doc, tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  /**
   * Keeps `container` in step with the conversation's items. Every text goes
   * in through textContent; nothing is ever parsed as HTML.
   */
  function MessageList(container, conversation, options) {
    this.container = container;
    this.conversation = conversation;
    this.options = options || {};
    this.doc = container.ownerDocument;
    this.nodes = {};
    var self = this;
    container.addEventListener('click', function (event) {
      var button = event.target.closest ? event.target.closest('[data-retry]') : null;
      if (button && container.contains(button)) {
        conversation.retry(button.getAttribute('data-retry'));
      }
    });
  }

  MessageList.prototype.render = function (items) {
    var container = this.container;
    var nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
    var wanted = [];
    if (this.options.greeting) wanted.push({ key: 'greeting', role: 'agent', text: this.options.greeting, status: 'greeting' });
    wanted = wanted.concat(items);
    var keep = {};
    var previous = null;
    for (var i = 0; i < wanted.length; i++) {
      var item = wanted[i];
      var signature = item.status + '|' + item.timestamp + '|' + (item.error || '');
      var node = this.nodes[item.key];
      if (!node) {
        node = this.nodes[item.key] = { element: this._build(item), signature: signature };
      } else if (node.signature !== signature) {
        var fresh = this._build(item);
        container.replaceChild(fresh, node.element);
        node.element = fresh;
        node.signature = signature;
      }
      keep[item.key] = true;
      var expected = previous ? previous.nextSibling : container.firstChild;
      if (expected !== node.element) container.insertBefore(node.element, expected);
      previous = node.element;
    }
    for (var key in this.nodes) {
      if (!keep[key]) {
        var stale = this.nodes[key].element;
        if (stale.parentNode === container) container.removeChild(stale);
        delete this.nodes[key];
      }
    }
    if (nearBottom || this.options.alwaysScroll) this.scrollToEnd();
  };

  MessageList.prototype.scrollToEnd = function () {
    this.container.scrollTop = this.container.scrollHeight;
  };

  MessageList.prototype._build = function (item) {
    var doc = this.doc;
    var labels = this.options.labels || { visitor: 'You', agent: 'Agent' };
    var row = el(doc, 'div', 'msg msg-' + item.role + (item.status === 'failed' ? ' msg-failed' : '') +
      (item.status === 'sending' ? ' msg-sending' : ''));
    row.setAttribute('data-key', item.key);
    if (item.id) row.setAttribute('data-id', String(item.id));
    var who = el(doc, 'span', 'sr-only', (item.role === 'visitor' ? labels.visitor : labels.agent) + ': ');
    var bubble = el(doc, 'div', 'msg-bubble');
    bubble.appendChild(who);
    bubble.appendChild(el(doc, 'span', 'msg-text', item.text));
    row.appendChild(bubble);
    var meta = el(doc, 'div', 'msg-meta');
    var stamp = item.timestamp || (item.role === 'visitor' ? item.createdAt : null);
    if (stamp) {
      var time = el(doc, 'time', null, formatTime(stamp));
      time.setAttribute('datetime', stamp);
      meta.appendChild(time);
    }
    if (item.status === 'sending') meta.appendChild(el(doc, 'span', 'msg-state', 'Sending…'));
    if (item.status === 'failed') {
      meta.appendChild(el(doc, 'span', 'msg-state', item.error || 'Not sent'));
      var retry = el(doc, 'button', 'msg-retry', 'Retry');
      retry.type = 'button';
      retry.setAttribute('data-retry', item.key);
      retry.setAttribute('aria-label', 'Retry sending this message');
      meta.appendChild(retry);
    }
    if (meta.firstChild) row.appendChild(meta);
    return row;
  };

  // -- the composer -------------------------------------------------------------

  /** Enter sends, Shift+Enter is a newline, the field grows up to maxHeight. */
  function bindComposer(textarea, onSubmit, maxHeight) {
    function grow() {
      textarea.style.height = 'auto';
      var height = Math.min(textarea.scrollHeight, maxHeight);
      textarea.style.height = height + 'px';
      textarea.style.overflowY = textarea.scrollHeight > maxHeight ? 'auto' : 'hidden';
    }
    textarea.addEventListener('input', grow);
    textarea.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        onSubmit();
      }
    });
    return grow;
  }

  var STATUS_TEXT = {
    idle: 'Ready',
    connecting: 'Connecting…',
    online: 'Connected',
    offline: 'Offline',
    limited: 'Busy'
  };

  function statusText(status, detail) {
    var text = STATUS_TEXT[status] || status;
    return detail ? text + ' (' + detail + ')' : text;
  }

  return {
    Conversation: Conversation,
    MessageList: MessageList,
    Emitter: Emitter,
    bindComposer: bindComposer,
    newSessionId: newSessionId,
    formatTime: formatTime,
    statusText: statusText
  };
})();
