// 派单: select many cases (one tick each, or "全选本页") for the bulk dispatch form. No inline
// script anywhere (the Content-Security-Policy forbids it).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("bulk-dispatch");
  if (!form) { return; }
  var all = document.getElementById("select-all");
  var count = document.getElementById("selected-count");
  var send = document.getElementById("bulk-send");
  var picks = function () { return document.querySelectorAll("input.pick[form=bulk-dispatch]"); };
  var update = function () {
    var boxes = picks();
    var n = 0;
    boxes.forEach(function (b) { if (b.checked) { n += 1; } });
    count.textContent = document.documentElement.lang === "en" ? n + " selected" : "已选 " + n + " 件";
    all.checked = boxes.length > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
    send.disabled = n === 0;
  };
  all.addEventListener("change", function () {
    picks().forEach(function (b) { b.checked = all.checked; });
    update();
  });
  picks().forEach(function (b) { b.addEventListener("change", update); });
  update();
});
