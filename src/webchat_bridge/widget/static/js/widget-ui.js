/*
 * The embeddable widget: a launcher and a panel in a Shadow DOM, driven by
 * ChatCore. Bundled by the bridge into /widget.js after chat-core.js, inside
 * one closure; WIDGET_CSS and WIDGET_VERSION are defined by the bundle.
 */
var POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'];
var THEMES = ['light', 'dark', 'auto'];
var EVENTS = ['open', 'close', 'message', 'error'];
var DEFAULT_CONFIG = {
  position: 'bottom-right',
  theme: 'light',
  title: 'Chat with us',
  primaryColor: '#007bff',
  greeting: '',
  autoOpen: false
};
var HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
var SCRIPT_PATH = /\/(?:widget\.js|widget\/(?:static|assets)\/js\/chat-widget\.js)$/;

function warn(text) {
  if (window.console && window.console.warn) window.console.warn('[chat widget] ' + text);
}

// document.currentScript is null when the bundle runs from a callback or an
// older loader; then the last matching tag on the page is ours.
function findOwnScript(current) {
  if (current && current.src) return current;
  var scripts = document.getElementsByTagName('script');
  for (var i = scripts.length - 1; i >= 0; i--) {
    var src = scripts[i].src;
    if (src && SCRIPT_PATH.test(new URL(src, location.href).pathname)) return scripts[i];
  }
  return null;
}

function bridgeBase(script) {
  if (!script) return location.origin;
  var url = new URL(script.src, location.href);
  return url.origin + url.pathname.replace(SCRIPT_PATH, '');
}

function optionsFromTag(script) {
  var options = {};
  if (!script) return options;
  var data = script.dataset;
  ['title', 'position', 'theme', 'primaryColor', 'greeting'].forEach(function (name) {
    if (data[name] !== undefined) options[name] = data[name];
  });
  if (data.autoOpen !== undefined) options.autoOpen = data.autoOpen;
  if (data.apiKey !== undefined) options.apiKey = data.apiKey;
  return options;
}

function asBoolean(value) {
  if (typeof value === 'boolean') return value;
  var text = String(value).toLowerCase();
  if (text === 'true' || text === '1' || text === 'yes' || text === '') return true;
  if (text === 'false' || text === '0' || text === 'no') return false;
  return null;
}

/** Defaults, overridden by each valid option; invalid ones are named in a warning. */
function resolveConfig(base, options) {
  var config = {};
  for (var name in DEFAULT_CONFIG) config[name] = base[name] !== undefined ? base[name] : DEFAULT_CONFIG[name];
  options = options || {};
  if (options.apiKey !== undefined || options.api_key !== undefined) {
    // The plugin's key opens the agent's inbox: it must never be in a page.
    warn('the apiKey option is ignored: the widget needs no key');
  }
  if (options.position !== undefined) {
    if (POSITIONS.indexOf(options.position) >= 0) config.position = options.position;
    else warn('invalid position "' + options.position + '"; expected one of ' + POSITIONS.join(', '));
  }
  if (options.theme !== undefined) {
    if (THEMES.indexOf(options.theme) >= 0) config.theme = options.theme;
    else warn('invalid theme "' + options.theme + '"; expected one of ' + THEMES.join(', '));
  }
  if (options.primaryColor !== undefined) {
    if (HEX_COLOR.test(String(options.primaryColor))) config.primaryColor = options.primaryColor;
    else warn('invalid primaryColor "' + options.primaryColor + '"; expected #rgb or #rrggbb');
  }
  if (options.title !== undefined) config.title = String(options.title).slice(0, 100) || DEFAULT_CONFIG.title;
  if (options.greeting !== undefined) config.greeting = String(options.greeting).slice(0, 500);
  if (options.autoOpen !== undefined) {
    var flag = asBoolean(options.autoOpen);
    if (flag === null) warn('invalid autoOpen "' + options.autoOpen + '"; expected true or false');
    else config.autoOpen = flag;
  }
  return config;
}

// -- DOM helpers ----------------------------------------------------------------

var SVG = 'http://www.w3.org/2000/svg';
var ICONS = {
  chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z',
  close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z',
  send: 'M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z',
  fresh: 'M12 5V2L7 6l5 4V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z'
};

function icon(name, size) {
  var svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  var path = document.createElementNS(SVG, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', ICONS[name]);
  svg.appendChild(path);
  return svg;
}

function make(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

// Inline !important declarations beat any rule of the host page, including
// `* { all: unset }`; the host box is 0×0 so that it covers nothing.
function pinHostStyle(host) {
  var rules = [
    ['all', 'initial'], ['position', 'fixed'], ['top', '0'], ['left', '0'],
    ['width', '0'], ['height', '0'], ['margin', '0'], ['padding', '0'], ['border', '0'],
    ['overflow', 'visible'], ['z-index', '2147483000'], ['pointer-events', 'none'],
    ['display', 'block'], ['visibility', 'visible'], ['opacity', '1'], ['transform', 'none'],
    ['contain', 'none']
  ];
  for (var i = 0; i < rules.length; i++) host.style.setProperty(rules[i][0], rules[i][1], 'important');
}

function adoptStyles(shadow) {
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    shadow.adoptedStyleSheets = [sheet];
    return;
  } catch (err) { /* older browsers: a style element */ }
  shadow.appendChild(make('style', null, WIDGET_CSS));
}

// -- the widget -------------------------------------------------------------------

function Widget(base, config, emitter) {
  this.base = base;
  this.config = config;
  this.emitter = emitter;
  this.isOpen = false;
  this.unread = 0;
  this.conversation = new ChatCore.Conversation({
    apiBase: base + '/api/v1/',
    storageKey: 'webchat-bridge:' + base + ':widget'
  });
  this._build();
  this._wire();
  if (this.conversation.state.items.length) this.conversation.activate();
  if (config.autoOpen) this.open();
}

Widget.prototype._build = function () {
  var config = this.config;
  var host = this.host = make('div');
  host.id = 'webchat-bridge-widget';
  host.setAttribute('data-webchat-bridge', WIDGET_VERSION);
  pinHostStyle(host);
  var shadow = this.shadow = host.attachShadow({ mode: 'open' });
  adoptStyles(shadow);

  var root = this.root = make('div', 'wcb');
  root.setAttribute('data-position', config.position);
  root.setAttribute('data-theme', config.theme);
  root.style.setProperty('--wcb-primary', config.primaryColor);

  var launcher = this.launcher = make('button', 'wcb-launcher');
  launcher.type = 'button';
  launcher.setAttribute('aria-controls', 'wcb-panel');
  launcher.setAttribute('aria-expanded', 'false');
  launcher.appendChild(make('span', 'wcb-icon-open')).appendChild(icon('chat', 26));
  launcher.appendChild(make('span', 'wcb-icon-close')).appendChild(icon('close', 24));
  var badge = this.badge = make('span', 'wcb-badge');
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  launcher.appendChild(badge);

  var panel = this.panel = make('section', 'wcb-panel');
  panel.id = 'wcb-panel';
  panel.hidden = true;
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', config.title);

  var header = make('header', 'wcb-header');
  var heading = make('div', 'wcb-heading');
  heading.appendChild(make('h2', 'wcb-title', config.title));
  var status = this.status = make('p', 'wcb-status');
  status.setAttribute('role', 'status');
  status.setAttribute('data-status', 'idle');
  status.appendChild(make('span', 'wcb-dot'));
  this.statusText = status.appendChild(make('span', 'wcb-status-text', 'Ready'));
  heading.appendChild(status);
  header.appendChild(heading);
  var actions = make('div', 'wcb-actions');
  var fresh = this.freshButton = make('button', 'wcb-icon-button wcb-new');
  fresh.type = 'button';
  fresh.setAttribute('aria-label', 'New conversation');
  fresh.title = 'New conversation';
  fresh.appendChild(icon('fresh', 18));
  var close = this.closeButton = make('button', 'wcb-icon-button wcb-close');
  close.type = 'button';
  close.setAttribute('aria-label', 'Close chat');
  close.title = 'Close';
  close.appendChild(icon('close', 18));
  actions.appendChild(fresh);
  actions.appendChild(close);
  header.appendChild(actions);

  var log = this.log = make('div', 'wcb-log');
  log.setAttribute('role', 'log');
  log.setAttribute('aria-live', 'polite');
  log.setAttribute('aria-label', 'Conversation');
  log.tabIndex = 0;
  // Shown while there is neither a greeting nor a message, so the panel is
  // never blank; it is not a .msg, so it never counts as one.
  var empty = this.empty = log.appendChild(make('div', 'wcb-empty'));
  empty.appendChild(make('p', 'wcb-empty-title', 'Hello! How can we help?'));
  empty.appendChild(make('p', null, 'Type a message below and press Enter to send.'));

  var typing = this.typing = make('div', 'wcb-typing');
  typing.hidden = true;
  var dots = typing.appendChild(make('span', 'wcb-dots'));
  dots.setAttribute('aria-hidden', 'true');
  for (var i = 0; i < 3; i++) dots.appendChild(make('span'));
  typing.appendChild(make('span', null, 'Typing…'));

  var form = this.form = make('form', 'wcb-composer');
  form.setAttribute('autocomplete', 'off');
  var label = make('label', 'sr-only', 'Your message');
  label.htmlFor = 'wcb-input';
  var input = this.input = make('textarea', 'wcb-input');
  input.id = 'wcb-input';
  input.rows = 1;
  input.maxLength = 10000;
  input.placeholder = 'Write a message…';
  var send = make('button', 'wcb-send');
  send.type = 'submit';
  send.setAttribute('aria-label', 'Send message');
  send.appendChild(icon('send', 18));
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);
  shadow.appendChild(root);
  this._labelLauncher();
  (document.body || document.documentElement).appendChild(host);
};

Widget.prototype._labelLauncher = function () {
  var text = (this.isOpen ? 'Close chat' : 'Open chat: ' + this.config.title) +
    (this.unread && !this.isOpen ? ' (' + this.unread + ' unread)' : '');
  this.launcher.setAttribute('aria-label', text);
  this.badge.textContent = this.unread > 9 ? '9+' : String(this.unread);
  this.badge.hidden = !this.unread || this.isOpen;
};

Widget.prototype._wire = function () {
  var self = this;
  var conversation = this.conversation;
  this.list = new ChatCore.MessageList(this.log, conversation, {
    greeting: this.config.greeting,
    labels: { visitor: 'You', agent: this.config.title }
  });

  // Keys typed here are the visitor's, not the host page's shortcuts.
  ['keydown', 'keyup', 'keypress'].forEach(function (type) {
    self.root.addEventListener(type, function (event) {
      if (type === 'keydown' && event.key === 'Escape' && self.isOpen) {
        self.close();
        self.launcher.focus();
      }
      event.stopPropagation();
    });
  });

  this.launcher.addEventListener('click', function () { self.toggle(); });
  this.closeButton.addEventListener('click', function () { self.close(); self.launcher.focus(); });
  this.freshButton.addEventListener('click', function () { self.clearChat(); self.input.focus(); });

  var grow = this.grow = ChatCore.bindComposer(this.input, function () { self._submit(); }, 120);
  this.input.value = conversation.state.draft || '';
  var draftTimer = null;
  this.input.addEventListener('input', function () {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(function () { conversation.setDraft(self.input.value); }, 250);
  });
  this.form.addEventListener('submit', function (event) {
    event.preventDefault();
    self._submit();
    self.input.focus();
  });

  conversation.on('change', function (items) { self._render(items); });
  conversation.on('typing', function (on) {
    self.typing.hidden = !on;
    if (on) self.list.scrollToEnd();
  });
  conversation.on('status', function (info) {
    self.status.setAttribute('data-status', info.status);
    self.statusText.textContent = ChatCore.statusText(info.status, info.detail);
  });
  conversation.on('response', function (item) {
    if (!self.isOpen) {
      self.unread += 1;
      self._labelLauncher();
    }
    self.emitter.emit('message', publicMessage(item));
  });
  conversation.on('sent', function (item) { self.emitter.emit('message', publicMessage(item)); });
  conversation.on('error', function (info) {
    self.emitter.emit('error', { during: info.during, kind: info.kind, message: info.message });
  });
  this._render(conversation.state.items);
  grow();
};

Widget.prototype._render = function (items) {
  this.empty.hidden = Boolean(this.config.greeting) || items.length > 0;
  this.list.render(items);
};

function publicMessage(item) {
  return { id: item.id, role: item.role, text: item.text, timestamp: item.timestamp };
}

Widget.prototype._submit = function () {
  var text = this.input.value;
  if (!text.trim()) return;
  this.input.value = '';
  this.conversation.setDraft('');
  this.grow();
  this.conversation.send(text);
  this.list.scrollToEnd();
};

Widget.prototype.open = function () {
  if (this.isOpen) return;
  this.isOpen = true;
  this.unread = 0;
  this.panel.hidden = false;
  this.root.classList.add('is-open');
  this.launcher.setAttribute('aria-expanded', 'true');
  this._labelLauncher();
  this.conversation.activate();
  this.list.scrollToEnd();
  this.grow();
  var input = this.input;
  setTimeout(function () { input.focus(); }, 0);
  this.emitter.emit('open', {});
};

Widget.prototype.close = function () {
  if (!this.isOpen) return;
  this.isOpen = false;
  this.panel.hidden = true;
  this.root.classList.remove('is-open');
  this.launcher.setAttribute('aria-expanded', 'false');
  this._labelLauncher();
  this.emitter.emit('close', {});
};

Widget.prototype.toggle = function () {
  if (this.isOpen) this.close(); else this.open();
};

Widget.prototype.clearChat = function () {
  this.conversation.reset();
  this.unread = 0;
  this._labelLauncher();
};

Widget.prototype.destroy = function () {
  this.conversation.stop();
  if (this.host.parentNode) this.host.parentNode.removeChild(this.host);
};

Widget.prototype.state = function () {
  var conversation = this.conversation;
  return {
    isInitialized: true,
    isOpen: this.isOpen,
    unread: this.unread,
    status: conversation.status,
    sessionId: conversation.state.sessionId,
    uid: conversation.state.uid,
    messageCount: conversation.state.items.length,
    typing: conversation.isTyping()
  };
};

// -- the public API -----------------------------------------------------------------

function install(script) {
  var base = bridgeBase(script);
  var tagOptions = optionsFromTag(script);
  var emitter = new ChatCore.Emitter();
  var widget = null;
  var lastOptions = {};

  function create(options) {
    lastOptions = options;
    var config = resolveConfig(DEFAULT_CONFIG, tagOptions);
    config = resolveConfig(config, options);
    widget = new Widget(base, config, emitter);
  }

  function whenReady(fn) {
    if (document.body) fn();
    else document.addEventListener('DOMContentLoaded', fn, { once: true });
  }

  var api = {
    version: WIDGET_VERSION,
    init: function (options) {
      // Re-running init replaces the one widget; it never adds a second.
      if (widget) widget.destroy();
      widget = null;
      var given = options || {};
      whenReady(function () { if (!widget) create(given); });
      return api;
    },
    open: function () { if (widget) widget.open(); },
    close: function () { if (widget) widget.close(); },
    toggle: function () { if (widget) widget.toggle(); },
    sendMessage: function (text) {
      if (!widget) return Promise.reject(new Error('The chat widget is not initialised'));
      return widget.conversation.send(text).then(publicMessage);
    },
    on: function (name, fn) {
      if (EVENTS.indexOf(name) < 0) { warn('unknown event "' + name + '"'); return api; }
      if (typeof fn === 'function') emitter.on(name, fn);
      return api;
    },
    off: function (name, fn) { emitter.off(name, fn); return api; },
    getState: function () {
      return widget ? widget.state() : { isInitialized: false, isOpen: false, unread: 0 };
    },
    getConfig: function () {
      var copy = {};
      var source = widget ? widget.config : resolveConfig(resolveConfig(DEFAULT_CONFIG, tagOptions), lastOptions);
      for (var k in source) copy[k] = source[k];
      copy.apiBase = base + '/api/v1/';
      return copy;
    },
    clearChat: function () { if (widget) widget.clearChat(); },
    destroy: function () {
      if (widget) widget.destroy();
      widget = null;
    }
  };

  window.SanctumChat = api;
  if (!script || script.getAttribute('data-auto-init') !== 'false') api.init({});
  return api;
}
