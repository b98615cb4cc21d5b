// The station console: push a zip with the station's key, then follow the batch's progress events.
// A file of its own, not an inline script: the pages are served under a CSP without 'unsafe-inline'.
"use strict";
(function () {
  var STATE = {pending: "Chờ xử lý", processing: "Đang xử lý", done: "Hoàn thành", failed: "Lỗi",
               partial: "Hoàn thành một phần"};
  var form = document.getElementById("gui-lo"), box = document.getElementById("bien-nhan");
  var err = document.getElementById("loi");
  function text(id, value) { document.getElementById(id).textContent = value; }
  function show(status) {
    var p = status.progress || {done: 0, failed: 0, total: status.components.length};
    var bar = document.getElementById("tien-do");
    bar.max = p.total || 1; bar.value = p.done + p.failed;
    text("tien-do-chu", (p.done + p.failed) + "/" + p.total);
    text("trang-thai", STATE[status.state] || "Đang xử lý");
    var list = document.getElementById("thanh-phan");
    list.textContent = "";
    status.components.forEach(function (c) {
      var li = document.createElement("li");
      li.dataset.ref = c.ref; li.dataset.state = c.state;
      li.textContent = c.ref + " — " + (c.name || c.declared_type || "") + ": " + (STATE[c.state] || c.state) +
        (c.error ? " (" + c.error.code + ": " + c.error.message + ")" : "") +
        (c.reusable && c.reusable.length ? " — có " + c.reusable.length + " bản trong kho có thể dùng lại" : "");
      if (c.review && c.review.needs_review) {
        // Why an officer must check this component: one line per warning, in Vietnamese from the server.
        li.dataset.needsReview = "1";
        var flag = document.createElement("strong");
        flag.textContent = " — Cần cán bộ kiểm tra";
        li.appendChild(flag);
        var reasons = document.createElement("ul");
        reasons.className = "ly-do";
        c.review.warnings.forEach(function (w) {
          var item = document.createElement("li");
          item.dataset.code = w.code;
          item.textContent = w.message;
          reasons.appendChild(item);
        });
        li.appendChild(reasons);
      }
      list.appendChild(li);
    });
  }
  async function follow(url, auth) {
    var res = await fetch(url, {headers: {Authorization: auth}});
    var reader = res.body.getReader(), decoder = new TextDecoder(), buf = "";
    while (true) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buf += decoder.decode(chunk.value, {stream: true});
      var parts = buf.split("\n\n"); buf = parts.pop();
      parts.forEach(function (block) {
        var ev = /^event: (.*)$/m.exec(block), data = /^data: (.*)$/m.exec(block);
        if (ev && data && ev[1] === "progress") show(JSON.parse(data[1]));
        if (ev && ev[1] === "done") box.dataset.done = "1";
      });
    }
  }
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    err.hidden = true;
    var file = document.getElementById("lo").files[0];
    var auth = "Bearer " + document.getElementById("khoa").value.trim();
    var digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    var key = Array.from(new Uint8Array(digest)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    var res = await fetch("/api/v1/batches", {method: "POST", body: file,
      headers: {Authorization: auth, "Content-Type": "application/zip", "Idempotency-Key": key}});
    var body = await res.json();
    if (!res.ok) {
      err.textContent = (body.detail && body.detail.message) || ("Lỗi " + res.status);
      err.hidden = false; return;
    }
    box.hidden = false;
    text("ma-ho-so", body.dossier_code);
    text("dung-lai", body.reusable_documents + " giấy tờ" +
      (body.reuse && body.reuse.message ? " (" + body.reuse.message + ")" : ""));
    show({state: "processing", components: body.components,
          progress: {done: 0, failed: body.components.filter(function (c) { return c.state === "failed"; }).length,
                     total: body.components.length}});
    follow(body.events_url, auth);
  });
})();
