/* The site's browsers: inventory, flows, every finding, what changed. Loaded before the page's data files
   (data/<table>-<n>.js), which call window.carnotExplorer.add(table, fields, rows, shared); once the document is
   parsed, the rows are filtered, searched and shown a page at a time.
   Safety: every value reaches the page through textContent or a form control's value, never as HTML;
   every link is built here from a row index (an integer) or a checked policy-guide anchor. */
(function () {
  "use strict";

  var tables = {};
  window.carnotExplorer = {
    // shared: {field: [values]}; such a field holds the position of its value in that list
    add: function (name, fields, rows, shared) {
      var table = tables[name] || (tables[name] = { fields: fields, rows: [] });
      var columns = Object.keys(shared || {}).map(function (field) {
        return [fields.indexOf(field), shared[field]];
      });
      for (var i = 0; i < rows.length; i++) {
        for (var c = 0; c < columns.length; c++) {
          rows[i][columns[c][0]] = columns[c][1][rows[i][columns[c][0]]];
        }
        table.rows.push(rows[i]);
      }
    }
  };

  var ANCHOR = /^[a-z0-9][a-z0-9_-]{0,80}$/;
  var ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function link(href, text) {
    var a = el("a", null, text);
    a.setAttribute("href", href);
    return a;
  }

  function badge(severity) {
    return el("span", "sev sev-" + (/^[a-z]+$/.test(severity) ? severity : "unknown"), severity);
  }

  function indexOf(fields) {
    var at = {};
    fields.forEach(function (name, i) { at[name] = i; });
    return at;
  }

  // Every string in a row (nested lists too), lower-cased and joined: what the search box looks in.
  function haystack(value, out) {
    if (value === null || value === undefined) {
      return out;
    }
    if (Array.isArray(value)) {
      for (var i = 0; i < value.length; i++) {
        haystack(value[i], out);
      }
    } else {
      out.push(String(value).toLowerCase());
    }
    return out;
  }

  // --- one renderer per table: the cells of a row, and (for assets) its details ----------------------

  function assetCells(row, F, index, view) {
    var name = el("button", "row-toggle", row[F.name] || row[F.ref]);
    name.setAttribute("type", "button");
    name.setAttribute("aria-expanded", view.open[index] ? "true" : "false");
    name.addEventListener("click", function () {
      view.open[index] = !view.open[index];
      view.render();
    });
    var nameCell = [name, el("br"), el("code", "ref", row[F.ref])];
    var algorithm = [row[F.algorithm], row[F.bits] ? row[F.bits] + " bits" : "",
      row[F.group] !== row[F.algorithm] ? row[F.group] : ""]
      .filter(Boolean).join(" · ");
    var evidence = row[F.evidence];
    var more = evidence.length - 1 + row[F.unlisted];
    var where = evidence.length ? evidence[0][1] + (more > 0 ? " (+" + more + " more)" : "") : "—";
    var open = row[F.findings].filter(function (f) { return !f[3]; });
    var findings = open.length ? [badge(open[0][1]), " " + open.length + " open"]
      : [row[F.findings].length ? row[F.findings].length + " waived" : "none"];
    return [nameCell, row[F.type], algorithm || "—", row[F.status], row[F.sources].join(", "), where, findings];
  }

  function assetDetails(row, F) {
    var box = el("div", "details");
    var evidence = row[F.evidence];
    box.appendChild(el("h3", null, "Evidence"));
    if (evidence.length) {
      var list = el("ul", "evidence");
      evidence.forEach(function (s) {
        var item = el("li");
        item.appendChild(el("span", "source", s[0] || "—"));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(el("code", null, s[1]));
        if (s[2]) {
          item.appendChild(el("span", "context", " — " + s[2]));
        }
        list.appendChild(item);
      });
      box.appendChild(list);
    } else {
      box.appendChild(el("p", null, "No evidence listed for this asset."));
    }
    if (row[F.unlisted]) {
      box.appendChild(el("p", "more", row[F.unlisted] + " more sightings are counted in the bundle's merged.cdx.json."));
    }
    if (row[F.details].length || row[F.reason]) {
      var facts = el("dl", "asset-facts");
      row[F.details].forEach(function (pair) {
        facts.appendChild(el("dt", null, pair[0]));
        facts.appendChild(el("dd", null, pair[1]));
      });
      if (row[F.reason]) {
        facts.appendChild(el("dt", null, "why this status"));
        facts.appendChild(el("dd", null, row[F.reason]));
      }
      box.appendChild(facts);
    }
    box.appendChild(el("h3", null, "Findings"));
    if (row[F.findings].length) {
      var found = el("ul", "asset-findings");
      row[F.findings].forEach(function (f) {
        var item = el("li");
        item.appendChild(badge(f[1]));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(link("findings.html#f" + Number(f[0]), f[2]));
        if (f[3]) {
          item.appendChild(el("em", null, " waived"));
        }
        found.appendChild(item);
      });
      box.appendChild(found);
    } else {
      box.appendChild(el("p", null, "No policy findings on this asset."));
    }
    if (row[F.flow]) {
      box.appendChild(el("p", null, "It is an observed connection: see the flows page."));
    }
    return box;
  }

  function findingCells(row, F) {
    var asset = row[F.asset] >= 0
      ? [link("inventory.html#a" + Number(row[F.asset]), row[F.asset_name] || row[F.ref]), el("br"),
         el("code", "ref", row[F.ref])]
      : [el("code", "ref", row[F.ref]), " (not an asset of this inventory)"];
    var fix = ANCHOR.test(row[F.anchor]) ? link("../../policy-guide.html#" + row[F.anchor], "how to fix")
      : row[F.remediation] || "—";
    return [[badge(row[F.severity])], row[F.rule], asset, row[F.message], [fix], row[F.waived] ? "waived" : "open"];
  }

  function flowCells(row, F) {
    var pq = row[F.pq] === 1 ? "hybrid PQ" : row[F.pq] === 0 ? "classical" : "not known";
    return [row[F.protocol] || "—", row[F.process] || "—", row[F.host] || "—", row[F.sni] || "—", row[F.endpoint] || "—",
      (row[F.group] || "—") + " (" + pq + ")", row[F.handshakes] + (row[F.failed] ? " (" + row[F.failed] + " failed)" : ""),
      (row[F.first_seen] || "—") + " → " + (row[F.last_seen] || "—"),
      [link("inventory.html#a" + Number(row[F.asset]), row[F.status])]];
  }

  function changeCells(row, F, index, view) {
    var page = /^assets|status/.test(row[F.change]) ? "inventory.html#a" : "findings.html#f";
    var base = row[F.side] === "old" ? view.oldBase : "";
    var target = base === null ? "—" : [link(base + page + Number(row[F.index]),
                                             row[F.side] === "old" ? "in the earlier assessment" : "in this assessment")];
    return [row[F.change], row[F.label], row[F.name], [el("code", "ref", row[F.ref])], target];
  }

  var RENDER = { assets: assetCells, findings: findingCells, flows: flowCells, changes: changeCells };

  // --- the browser ---------------------------------------------------------------------------------

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".explorer"), setUp);
    document.documentElement.setAttribute("data-explorer-ready", String(Math.round(performance.now())));
  }

  function setUp(root) {
    var name = root.getAttribute("data-table");
    var table = tables[name] || { fields: [], rows: [] };
    var F = indexOf(table.fields);
    var rows = table.rows;
    var old = root.getAttribute("data-old");
    var view = {
      open: {},
      page: 0,
      size: Number(root.getAttribute("data-page-size")) || 50,
      oldBase: old && ID.test(old) ? "../" + old + "/" : null,
      render: null
    };
    var search = root.querySelector("input[type=search]");
    var selects = Array.prototype.slice.call(root.querySelectorAll("select[data-filter]"));
    var body = root.querySelector("tbody");
    var labels = Array.prototype.map.call(root.querySelectorAll("thead th"), function (th) { return th.textContent; });
    var status = root.querySelector(".explorer-status");
    var pager = root.querySelector(".pager");
    var hay = null;
    var matches = [];
    var focus = null; // from the address: {kind: "a" | "f", index}

    function readHash() {
      var m = /^#([af])([0-9]{1,9})$/.exec(window.location.hash);
      focus = m ? { kind: m[1], index: Number(m[2]) } : null;
      if (focus && focus.kind === "a" && name === "assets") {
        view.open[focus.index] = true;
      }
    }

    function focused(i) {
      if (!focus) {
        return true;
      }
      if (name === "assets") {
        return focus.kind === "a" && i === focus.index;
      }
      if (name === "findings") {
        return focus.kind === "f" ? i === focus.index : rows[i][F.asset] === focus.index;
      }
      return name === "flows" && focus.kind === "a" && rows[i][F.asset] === focus.index;
    }

    function findingsState(row) {
      var list = row[F.findings];
      if (!list.length) {
        return "none";
      }
      return list.some(function (f) { return !f[3]; }) ? "open" : "waived";
    }

    function keep(row) {
      for (var s = 0; s < selects.length; s++) {
        var wanted = selects[s].value;
        if (!wanted) {
          continue;
        }
        var field = selects[s].getAttribute("data-filter");
        if (field === "findings" && name === "assets") {
          if (findingsState(row) !== wanted) {
            return false;
          }
          continue;
        }
        var value = row[F[field]];
        if (Array.isArray(value) ? value.indexOf(wanted) < 0 : String(value) !== wanted) {
          return false;
        }
      }
      return true;
    }

    function filter() {
      var terms = search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
      if (terms.length && hay === null) {
        hay = rows.map(function (row) { return haystack(row, []).join("\n"); });
      }
      matches = [];
      for (var i = 0; i < rows.length; i++) {
        if (!focused(i) || !keep(rows[i])) {
          continue;
        }
        var text = terms.length ? hay[i] : "";
        var all = true;
        for (var t = 0; t < terms.length && all; t++) {
          all = text.indexOf(terms[t]) >= 0;
        }
        if (all) {
          matches.push(i);
        }
      }
      view.page = 0;
    }

    function cell(content, label) {
      var td = el("td");
      td.setAttribute("data-label", label || "");
      (Array.isArray(content) ? content : [content]).forEach(function (part) {
        td.appendChild(typeof part === "object" && part !== null ? part : document.createTextNode(part === null ||
          part === undefined ? "" : String(part)));
      });
      return td;
    }

    view.render = function () {
      var pages = Math.max(1, Math.ceil(matches.length / view.size));
      view.page = Math.min(view.page, pages - 1);
      var first = view.page * view.size;
      var shown = matches.slice(first, first + view.size);
      var fresh = document.createDocumentFragment();
      shown.forEach(function (i) {
        var tr = el("tr");
        tr.id = (name === "findings" ? "f" : name === "assets" ? "a" : "r") + i;
        if (name === "findings" && rows[i][F.waived]) {
          tr.className = "waived";
        }
        RENDER[name](rows[i], F, i, view).forEach(function (content, c) {
          tr.appendChild(cell(content, labels[c]));
        });
        fresh.appendChild(tr);
        if (name === "assets" && view.open[i]) {
          var detail = el("tr", "detail");
          var td = el("td");
          td.setAttribute("colspan", String(labels.length));
          td.appendChild(assetDetails(rows[i], F));
          detail.appendChild(td);
          fresh.appendChild(detail);
        }
      });
      body.textContent = "";
      body.appendChild(fresh);
      status.textContent = "";
      var what = matches.length === rows.length ? rows.length.toLocaleString() + " rows"
        : matches.length.toLocaleString() + " of " + rows.length.toLocaleString() + " rows match";
      var range = matches.length > shown.length
        ? "; showing " + (first + 1).toLocaleString() + "–" + (first + shown.length).toLocaleString() : "";
      status.appendChild(document.createTextNode(what + range + "."));
      if (focus) {
        status.appendChild(document.createTextNode(name === "assets" || focus.kind === "f"
          ? " Showing one " + (focus.kind === "a" ? "asset" : "finding") + ". " : " Showing those of one asset. "));
        status.appendChild(link("#", "Show all"));
      }
      pager.querySelector("[data-page=prev]").disabled = view.page === 0;
      pager.querySelector("[data-page=next]").disabled = view.page >= pages - 1;
      pager.querySelector(".page-of").textContent = "page " + (view.page + 1) + " of " + pages;
    };

    var timer = null;
    function refilter() {
      filter();
      view.render();
    }
    if (search) {
      search.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(refilter, 150);
      });
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          window.clearTimeout(timer);
          refilter();
        }
      });
    }
    selects.forEach(function (select) { select.addEventListener("change", refilter); });
    pager.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-page]");
      if (!button) {
        return;
      }
      view.page += button.getAttribute("data-page") === "next" ? 1 : -1;
      view.render();
      root.scrollIntoView();
    });
    window.addEventListener("hashchange", function () {
      readHash();
      refilter();
    });
    readHash();
    refilter();
    root.classList.add("ready");
  }

  document.addEventListener("DOMContentLoaded", start);
})();
