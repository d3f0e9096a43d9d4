// Live flags: appends rows to the open-flags table as the server streams them (Server-Sent Events
// fed by the aggregator's WatchFlags). The table is complete without this script; it only spares a
// reload. No inline script anywhere: the page's Content-Security-Policy forbids it.
(function () {
  "use strict";
  var table = document.getElementById("flags");
  if (!table || !window.EventSource) { return; }
  var body = table.tBodies[0];
  var status = document.getElementById("live-status");
  var source = new EventSource(table.getAttribute("data-events"));
  var seen = {};
  Array.prototype.forEach.call(body.rows, function (row) { seen[row.getAttribute("data-name")] = true; });
  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }
  source.addEventListener("flag", function (event) {
    var f = JSON.parse(event.data);
    if (seen[f.name]) { return; }
    seen[f.name] = true;
    var empty = document.getElementById("no-flags");
    if (empty) { empty.hidden = true; }
    var row = document.createElement("tr");
    row.className = "fresh";
    row.setAttribute("data-name", f.name);
    var kind = cell(row, "");
    var tag = document.createElement("span");
    tag.className = "tag " + f.kind;
    tag.textContent = f.kind_text;
    kind.appendChild(tag);
    cell(row, f.agency_text);
    cell(row, f.obligation);
    cell(row, f.period);
    cell(row, f.locality);
    cell(row, f.message);
    var report = cell(row, f.report_href ? "" : f.report);
    if (f.report_href) {
      var link = document.createElement("a");
      link.href = f.report_href;
      link.textContent = f.report;
      report.appendChild(link);
    }
    cell(row, f.raised);
    body.insertBefore(row, body.firstChild);
    if (status) { status.textContent = f.announce; }
  });
})();
