/*
 * Web chat widget for the union's website. Embed with one tag:
 *   <script src="https://BOT-HOST/widget.js" defer></script>
 * Optional attributes: data-title="…" data-open="true" (open on load), data-unit="ID" (the union unit
 * whose officers answer; default the root unit).
 * Talks to the Rasa REST channel of the same host; officer replies arrive by polling.
 * All text is inserted with textContent, never parsed as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, window.location.href).origin;
  var title = script.getAttribute("data-title") || "Hỏi đáp pháp luật lao động";
  var unit = script.getAttribute("data-unit") || "";
  var KEY = "congdoan-chat-sender";
  var sender = null;
  try { sender = window.localStorage.getItem(KEY); } catch (e) { /* private mode */ }
  if (!sender) {
    sender = "web-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
    try { window.localStorage.setItem(KEY, sender); } catch (e) { /* ignore */ }
  }
  var lastOfficerId = 0;
  var pollTimer = null;

  var css = "" +
    ".cdw-btn{position:fixed;right:16px;bottom:16px;z-index:2147483000;background:#c8102e;color:#fff;border:0;border-radius:28px;" +
    "padding:14px 20px;font:600 15px system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}" +
    ".cdw-panel{position:fixed;right:16px;bottom:80px;z-index:2147483000;width:370px;max-width:calc(100vw - 32px);height:560px;" +
    "max-height:calc(100vh - 100px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:none;" +
    "flex-direction:column;overflow:hidden;font:15px/1.45 system-ui,sans-serif;color:#111}" +
    ".cdw-panel.cdw-open{display:flex}" +
    ".cdw-head{background:#c8102e;color:#fff;padding:12px 14px;font-weight:600;display:flex;justify-content:space-between;align-items:center}" +
    ".cdw-close{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}" +
    ".cdw-log{flex:1;overflow-y:auto;padding:12px;background:#f6f6f6}" +
    ".cdw-msg{max-width:85%;margin:6px 0;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".cdw-bot{background:#fff;border:1px solid #e3e3e3}.cdw-officer{background:#fff7e0;border:1px solid #f0d48a}" +
    ".cdw-user{background:#c8102e;color:#fff;margin-left:auto}" +
    ".cdw-who{font-size:12px;color:#8a6d00;margin-bottom:2px}" +
    ".cdw-quick{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}" +
    ".cdw-quick button{border:1px solid #c8102e;color:#c8102e;background:#fff;border-radius:16px;padding:5px 10px;font-size:13px;cursor:pointer}" +
    ".cdw-form{display:flex;border-top:1px solid #ddd}" +
    ".cdw-form input{flex:1;border:0;padding:12px;font-size:16px;outline:none}" +
    ".cdw-form button{border:0;background:#c8102e;color:#fff;padding:0 16px;font-weight:600;cursor:pointer}" +
    ".cdw-note{font-size:12px;color:#666;padding:4px 12px;background:#fff}" +
    "@media (max-width:600px){.cdw-panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var button = el("button", "cdw-btn", "💬 " + "Hỏi công đoàn");
  button.setAttribute("aria-label", "Mở khung hỏi đáp");
  var panel = el("section", "cdw-panel");
  panel.setAttribute("aria-label", title);
  var head = el("div", "cdw-head");
  head.appendChild(el("span", "", title));
  var close = el("button", "cdw-close", "×");
  close.setAttribute("aria-label", "Đóng");
  head.appendChild(close);
  var log = el("div", "cdw-log");
  log.setAttribute("aria-live", "polite");
  var note = el("div", "cdw-note", "Trả lời tự động có ghi căn cứ pháp lý. Cần gặp cán bộ, bấm “Gặp cán bộ”.");
  var form = el("form", "cdw-form");
  var input = el("input");
  input.type = "text";
  input.placeholder = "Nhập câu hỏi của bạn…";
  input.setAttribute("aria-label", "Câu hỏi");
  input.maxLength = 2000;
  var send = el("button", "", "Gửi");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(note);
  panel.appendChild(form);
  document.body.appendChild(button);
  document.body.appendChild(panel);

  function addMessage(text, who) {
    var box = el("div", "cdw-msg cdw-" + who);
    if (who === "officer") box.appendChild(el("div", "cdw-who", "Cán bộ công đoàn"));
    box.appendChild(document.createTextNode(text));
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  function addButtons(buttons) {
    if (!buttons || !buttons.length) return;
    var row = el("div", "cdw-quick");
    buttons.forEach(function (b) {
      var q = el("button", "", b.title);
      q.type = "button";
      q.addEventListener("click", function () {
        row.remove();
        post(b.payload, b.title);
      });
      row.appendChild(q);
    });
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  function post(message, shown, silent) {
    if (!silent) addMessage(shown || message, "user");
    send.disabled = true;
    fetch(base + "/webhooks/rest/webhook" + (unit ? "?unit=" + encodeURIComponent(unit) : ""), {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({sender: sender, message: message})
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (replies) {
      replies.forEach(function (m) {
        if (m.text) addMessage(m.text, "bot");
        addButtons(m.buttons);
      });
    }).catch(function () {
      addMessage("Xin lỗi, hiện không kết nối được máy chủ. Bạn vui lòng thử lại sau ít phút.", "bot");
    }).then(function () { send.disabled = false; input.focus(); });
  }

  function poll() {
    fetch(base + "/webhooks/rest/messages?sender=" + encodeURIComponent(sender) + "&after=" + lastOfficerId)
      .then(function (r) { return r.ok ? r.json() : {messages: []}; })
      .then(function (data) {
        (data.messages || []).forEach(function (m) {
          lastOfficerId = Math.max(lastOfficerId, m.id);
          addMessage(m.text, "officer");
        });
      }).catch(function () { /* offline: try again later */ });
  }

  function open() {
    panel.classList.add("cdw-open");
    button.style.display = "none";
    if (!log.childNodes.length) post("/greet", null, true);
    input.focus();
    poll();
    if (!pollTimer) pollTimer = setInterval(poll, 15000);
  }

  button.addEventListener("click", open);
  close.addEventListener("click", function () {
    panel.classList.remove("cdw-open");
    button.style.display = "";
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    post(text);
  });
  if (script.getAttribute("data-open") === "true") open();
})();
