/* The visitor chat page: binds ChatCore to the page's elements. */
(function () {
  'use strict';

  var app = document.getElementById('chat-app');
  var log = document.getElementById('chat-log');
  var empty = document.getElementById('chat-empty');
  var typing = document.getElementById('chat-typing');
  var status = document.getElementById('chat-status');
  var form = document.getElementById('chat-form');
  var input = document.getElementById('chat-input');
  var newButton = document.getElementById('chat-new');

  var apiBase = app.getAttribute('data-api-base') || '/api/v1/';
  var conversation = new ChatCore.Conversation({
    apiBase: apiBase,
    storageKey: 'webchat-bridge:' + location.origin + ':chat'
  });
  var list = new ChatCore.MessageList(log, conversation, { labels: { visitor: 'You', agent: 'Agent' } });

  function render(items) {
    list.render(items);
    empty.hidden = items.length > 0;
  }

  conversation.on('change', render);
  conversation.on('typing', function (on) {
    typing.hidden = !on;
    if (on) list.scrollToEnd();
  });
  conversation.on('status', function (info) {
    status.setAttribute('data-status', info.status);
    status.querySelector('.status-text').textContent = ChatCore.statusText(info.status, info.detail);
  });

  var grow = ChatCore.bindComposer(input, submit, 160);
  input.value = conversation.state.draft || '';
  grow();

  var draftTimer = null;
  input.addEventListener('input', function () {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(function () { conversation.setDraft(input.value); }, 250);
  });

  function submit() {
    var text = input.value;
    if (!text.trim()) return;
    input.value = '';
    conversation.setDraft('');
    grow();
    conversation.send(text);
    list.scrollToEnd();
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    submit();
    input.focus();
  });

  newButton.addEventListener('click', function () {
    conversation.reset();
    input.focus();
  });

  render(conversation.state.items);
  list.scrollToEnd();
  conversation.activate();
  input.focus();
})();
