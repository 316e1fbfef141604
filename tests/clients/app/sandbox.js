// sandbox.js - the sandbox proxy of the browser test's host (MCP Apps 2026-01-26, "Sandbox
// proxy"): served from http://localhost:PORT inside the host page of http://127.0.0.1:PORT,
// so the two origins differ.  It tells the host it is ready, loads the View's HTML it is
// then sent into an inner iframe (sandbox "allow-scripts" only: an opaque origin that can
// reach neither this page nor the host), and relays every other message both ways, except
// the ui/notifications/sandbox-* ones, which are for the proxy alone.  The View's document
// inherits this page's Content-Security-Policy (the HTTP header the server set).
// SPDX-License-Identifier: Apache-2.0
(function () {
  'use strict';
  if (window.self === window.top || !document.referrer) throw new Error('not inside a host page');
  var HOST = new URL(document.referrer).origin;
  var PREFIX = 'ui/notifications/sandbox-';
  var inner = document.createElement('iframe');
  inner.setAttribute('sandbox', 'allow-scripts');
  inner.title = 'MCP App';
  inner.style.cssText = 'border:0;width:100%;height:100%;display:block';
  document.body.style.margin = '0';
  document.documentElement.style.height = document.body.style.height = '100%';
  document.body.appendChild(inner);

  function proxyOnly(m) { return m && typeof m.method === 'string' && m.method.indexOf(PREFIX) === 0; }

  window.addEventListener('message', function (event) {
    var m = event.data;
    if (event.source === window.parent) {
      if (event.origin !== HOST) return;
      if (m && m.method === PREFIX + 'resource-ready') {
        var p = m.params || {};
        if (typeof p.sandbox === 'string') inner.setAttribute('sandbox', p.sandbox);
        if (typeof p.html === 'string') inner.srcdoc = p.html;
      } else if (!proxyOnly(m) && inner.contentWindow) {
        inner.contentWindow.postMessage(m, '*');
      }
    } else if (event.source === inner.contentWindow) {
      if (!proxyOnly(m)) window.parent.postMessage(m, HOST);
    }
  });
  window.parent.postMessage({ jsonrpc: '2.0', method: PREFIX + 'proxy-ready', params: {} }, HOST);
})();
