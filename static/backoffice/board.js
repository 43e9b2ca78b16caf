/* The desk board: draws the price/volume chart and refreshes everything when the admin
   session's websocket (/ws/v1/stream/, the same audience rules as every staff socket) reports
   an event of the desk. No polling: a closed socket is reopened after a pause. */
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root) { return; }
  var dataUrl = root.dataset.url;
  var live = document.getElementById("board-live");
  var RELEVANT = /^(tradedesk|matching|trades|partners|risk)\./;
  var chart = null;

  function text(value) { return value === null || value === undefined ? "" : String(value); }

  function fillTable(id, rows, columns, emptyText) {
    var body = document.querySelector("#" + id + " tbody");
    if (!body) { return; }
    body.textContent = "";
    if (!rows.length) {
      var tr = document.createElement("tr");
      tr.className = "empty";
      var td = document.createElement("td");
      td.colSpan = columns.length;
      td.textContent = emptyText;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      if (row.number) { tr.dataset.number = row.number; }
      columns.forEach(function (column) {
        var td = document.createElement("td");
        td.textContent = text(row[column.key]);
        if (column.num) { td.className = "bo-num"; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function fillQueues(queues) {
    var list = document.getElementById("board-queues");
    if (!list) { return; }
    list.textContent = "";
    queues.forEach(function (queue) {
      var li = document.createElement("li");
      li.className = "bo-queue" + (queue.count ? " bo-queue-busy" : "");
      li.dataset.queue = queue.key;
      var a = document.createElement("a");
      a.href = queue.url;
      var count = document.createElement("span");
      count.className = "bo-count";
      count.textContent = queue.count;
      a.appendChild(count);
      a.appendChild(document.createTextNode(" " + queue.label));
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  function drawChart(series) {
    var canvas = document.getElementById("board-price-chart");
    if (!canvas || typeof Chart === "undefined") { return; }
    var data = {
      labels: series.map(function (p) { return p.day; }),
      datasets: [
        { type: "line", label: "Rs per candy", data: series.map(function (p) { return p.per_candy; }), yAxisID: "price", borderColor: "#417690", tension: 0.2 },
        { type: "bar", label: "kg traded", data: series.map(function (p) { return p.kg; }), yAxisID: "volume", backgroundColor: "rgba(121, 174, 200, 0.45)" }
      ]
    };
    if (chart) { chart.data = data; chart.update(); return; }
    chart = new Chart(canvas, {
      data: data,
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          price: { position: "left", title: { display: true, text: "Rs / candy" } },
          volume: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "kg" } }
        }
      }
    });
  }

  function render(snapshot) {
    document.getElementById("board-updated").textContent = snapshot.generated_at;
    fillQueues(snapshot.queues);
    fillTable("board-market", snapshot.market, [
      { key: "variety" }, { key: "state" }, { key: "offers", num: true }, { key: "offer_kg", num: true },
      { key: "needs", num: true }, { key: "need_kg", num: true }, { key: "best_offer_per_candy", num: true }
    ], "Nothing on the market.");
    fillTable("board-approved", snapshot.approved_today, [
      { key: "number" }, { key: "partner" }, { key: "variety" }, { key: "quantity", num: true }, { key: "price", num: true }
    ], "Nothing yet today.");
    fillTable("board-matches", snapshot.matches_today, [
      { key: "buyer" }, { key: "seller" }, { key: "score", num: true }, { key: "per_candy", num: true }, { key: "status" }
    ], "No matches today.");
    fillTable("board-trades", snapshot.trades_today, [
      { key: "number" }, { key: "buyer" }, { key: "seller" }, { key: "variety" }, { key: "kg", num: true },
      { key: "per_candy", num: true }, { key: "status" }
    ], "No trades today.");
    drawChart(snapshot.series);
  }

  var pending = null;
  function refresh() {
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      fetch(dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (snapshot) { if (snapshot) { render(snapshot); } });
    }, 150);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/v1/stream/");
    socket.onmessage = function (message) {
      var frame = JSON.parse(message.data);
      if (frame.type === "ready") {
        live.textContent = "live"; live.className = "bo-badge bo-ok";
        refresh();  // whatever happened while the socket was opening
      } else if (frame.type === "ping") {
        socket.send(JSON.stringify({ action: "pong" }));
      } else if (frame.type === "event" && RELEVANT.test(frame.event.type)) {
        refresh();
      }
    };
    socket.onclose = function () {
      live.textContent = "reconnecting"; live.className = "bo-badge bo-wait";
      setTimeout(connect, 3000);
    };
  }

  var series = JSON.parse(document.getElementById("board-series").textContent);
  drawChart(series);
  connect();
})();
