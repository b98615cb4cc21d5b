// The lookup form: before it posts, ask whether the result needs a proof of work from this browser
// (only while the result is under attack, see api/lookup_guard.py) and, if so, solve it in a Web
// Worker (/static/lookup-pow-worker.js) and post it with the form. Without JavaScript the form
// posts as it is, which is all a result not under attack needs.
"use strict";
(function () {
  var form = document.getElementById("tra-cuu-form");
  if (!form || !window.fetch || !window.Worker) return;
  var status = document.getElementById("xac-minh"), button = document.getElementById("tra-cuu");
  var ready = false, busy = false;

  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function post() {
    ready = true;
    busy = false;
    button.disabled = false;
    form.submit();  // submit() fires no submit event: the handler below does not run again
  }

  function solve(challenge, bits) {
    var worker = new Worker("/static/lookup-pow-worker.js");
    say("Mã kết quả này đang bị dò thử từ nhiều nơi: trình duyệt đang tự giải một phép tính xác minh " +
        "(thường chỉ vài giây), vui lòng chờ…");
    worker.onmessage = function (event) {
      if (event.data.tries) {
        say("Đang giải phép tính xác minh… (" + event.data.tries.toLocaleString("vi-VN") + " lần thử)");
        return;
      }
      worker.terminate();
      if (event.data.nonce !== undefined) {
        form.elements.pow_challenge.value = challenge;
        form.elements.pow_nonce.value = event.data.nonce;
        say("Đã xác minh xong, đang tra cứu…");
      }
      post();
    };
    worker.onerror = function () { worker.terminate(); post(); };
    worker.postMessage({challenge: challenge, bits: bits});
  }

  window.addEventListener("pageshow", function () {  // back to this page (bfcache): ask afresh next time
    ready = busy = false;
    button.disabled = false;
    form.elements.pow_challenge.value = form.elements.pow_nonce.value = "";
    say("");
  });

  form.addEventListener("submit", function (event) {
    if (ready) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    var code = form.elements.ma_ket_qua.value;
    fetch("/tra-cuu/thu-thach?ma=" + encodeURIComponent(code), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {required: false}; })
      .then(function (answer) {
        if (answer.required && answer.challenge) solve(answer.challenge, answer.bits);
        else post();
      })
      .catch(post);  // the service answers a post without a proof as it can
  });
})();
