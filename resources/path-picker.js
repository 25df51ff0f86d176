// Path picker shared by the gx-notify, gx-read and gx-write editors (Node-RED serves this
// folder at resources/@gx-bridge/node-red-gx/). It asks the runtime for the items the selected
// gx-config node knows, one page at a time (GET gx-config/<id>/items?q=…&limit=… →
// {total, items:[{path, device, value, text, label, unit, enum, writable}], devices:[{device,
// service, name, kind, count}]}), and shows them grouped by device as soon as the field is
// clicked, each with what the path catalogue calls it ("State of charge (%)"), filtered on the
// path, its label and unit, the value's text and the device's name while typing. Any failure
// leaves a plain text box. It also gives the nodes their default labels (labelOf).
(function () {
    "use strict";
    if (window.GxBridgeEditor) { return; }

    var PAGE = 100;
    var CACHE_MS = 15000;
    var DEBOUNCE_MS = 150;
    var MAX_FOLDERS = 20;
    var cache = {};

    function itemsUrl(configId, q, limit) {
        return "gx-config/" + encodeURIComponent(configId) + "/items?limit=" + (limit || PAGE) +
            (q ? "&q=" + encodeURIComponent(q) : "");
    }

    // cb(page) with {total, items, devices}, or cb(null) when the list is not available.
    function fetchPage(configId, q, force, cb) {
        if (!configId || configId === "_ADD_") { cb(null); return; }
        var key = configId + "\u0000" + q;
        var c = cache[key];
        var now = Date.now();
        if (c && !force) {
            if (c.pending) { c.pending.push(cb); return; }
            if (now - c.time < CACHE_MS) { cb(c.page); return; }
        }
        c = cache[key] = { time: now, page: null, pending: [cb] };
        function settle(page) {
            c.page = page;
            c.time = Date.now();
            var waiting = c.pending || [];
            c.pending = null;
            if (!page) { delete cache[key]; }
            waiting.forEach(function (f) { try { f(page); } catch (e) { /* a closed dialog */ } });
        }
        try {
            $.getJSON(itemsUrl(configId, q))
                .done(function (data) { settle(normalise(data)); })
                .fail(function () { settle(null); });
        } catch (e) {
            settle(null);
        }
    }

    function normalise(data) {
        var items = (data && Array.isArray(data.items)) ? data.items : [];
        var devices = (data && Array.isArray(data.devices)) ? data.devices : [];
        return {
            total: (data && typeof data.total === "number") ? data.total : items.length,
            items: items.filter(function (it) { return it && typeof it.path === "string"; }),
            devices: devices.filter(function (d) { return d && typeof d.device === "string"; })
        };
    }

    function formatValue(v) {
        if (v === undefined) { return ""; }
        var s;
        try { s = JSON.stringify(v); } catch (e) { s = String(v); }
        if (s === undefined) { s = String(v); }
        return s.length > 32 ? s.slice(0, 31) + "…" : s;
    }

    // A typed MQTT filter (gx-notify) as a test on paths; an unfinished last level matches as a prefix.
    function filterTest(typed) {
        var levels = typed.split("/");
        var re = levels.map(function (l, i) {
            if (l === "#") { return ".*"; }
            if (l === "+") { return "[^/]+"; }
            var esc = l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            return i === levels.length - 1 ? esc + "[^/]*" : esc;
        }).join("/");
        var rx = new RegExp("^" + re + "(/.*)?$", "i");
        return function (p) { return rx.test(p); };
    }

    // Appends s to el with the first occurrence of q (lower case) in bold.
    function appendMarked(el, s, q) {
        var idx = q ? s.toLowerCase().indexOf(q) : -1;
        if (idx === -1) { $("<span>").text(s).appendTo(el); return; }
        $("<span>").text(s.slice(0, idx)).appendTo(el);
        $("<b>").text(s.slice(idx, idx + q.length)).appendTo(el);
        $("<span>").text(s.slice(idx + q.length)).appendTo(el);
    }

    // "State of charge (%)": the catalogue's label of an item, with its unit.
    function labelText(it) {
        if (!it.label) { return ""; }
        return it.unit ? it.label + " (" + it.unit + ")" : it.label;
    }

    // The one place a row of the menu is drawn: an icon, the path (the matched part in bold) and
    // on the right the value; for an item a second, smaller line with the catalogue's label and
    // unit on the left and the service's text (or the value's name) on the right, so that both
    // fit the narrow menu.
    function renderRow(row, q, text) {
        var item = row.kind === "item";
        var el = $("<div>", { "class": "gx-picker-row gx-picker-" + row.kind,
            style: "white-space:nowrap;" + (row.kind === "header" ? " font-weight:bold;" : "") +
                (row.kind === "more" ? " opacity:0.7; font-style:italic;" : "") });
        function line(extra) {
            return $("<div>", { style: "display:flex; justify-content:space-between; gap:12px;" + (extra || "") }).appendTo(el);
        }
        var first = line();
        var left = $("<span>", { style: "overflow:hidden; text-overflow:ellipsis;" +
            (item || row.kind === "group" ? " padding-left:14px;" : "") }).appendTo(first);
        if (row.icon) { $("<i>", { "class": "fa " + row.icon, style: "opacity:0.6; margin-right:6px; width:12px;" }).appendTo(left); }
        appendMarked($("<span>", { "class": "gx-picker-path" }).appendTo(left), row.title || row.path || "", row.kind !== "more" ? q : "");
        var right = $("<span>", { style: "opacity:0.65; font-family:monospace;" }).appendTo(first);
        if (row.count !== undefined) {
            right.text(text("picker.count", { count: row.count }));
        } else if (item) {
            $("<span>", { "class": "gx-picker-value" }).text(formatValue(row.value)).appendTo(right);
        }
        if (!item) { return el; }
        // the service's own text says it best ("57.04V", "Bulk"); else the catalogue's value name
        var said = (row.text !== undefined && row.text !== "") ? row.text : (row["enum"] || "");
        if (!row.label && (said === "" || said === formatValue(row.value))) { return el; }
        var second = line(" font-size:0.85em; opacity:0.75; padding-left:32px;");
        var lab = $("<span>", { "class": row.label ? "gx-picker-label" : "", style: "overflow:hidden; text-overflow:ellipsis;" }).appendTo(second);
        appendMarked(lab, labelText(row), q);
        if (said !== "" && said !== formatValue(row.value)) {
            $("<span>", { "class": "gx-picker-text", style: "font-style:italic;" }).text(said).appendTo(second);
        }
        if (row.label) { el.attr("title", row.path + ": " + labelText(row)); }
        return el;
    }

    // The rows for one page: per device a header (whole-device candidate or a narrowing), the
    // sub-trees that match (gx-read, gx-notify), the items; then "N more" when the page is not all.
    function rows(page, typed, kind) {
        var q = typed.toLowerCase();
        var wild = kind === "filter" && /[+#]/.test(typed);
        var test = wild ? filterTest(typed) : null;
        var out = [];
        var names = {};
        page.devices.forEach(function (d) { names[d.device] = d; });
        var items = test ? page.items.filter(function (it) { return test(it.path); }) : page.items;
        if (kind === "filter") {
            if (wild) {
                out.push({ kind: "group", path: typed.replace(/\/+$/, ""), icon: "fa-filter", count: items.length });
            } else if (!q) {
                out.push({ kind: "group", path: "#", icon: "fa-asterisk", count: page.total });
            }
            if (!wild) {
                // type/+/<path> across instances, when several devices of a type have that path
                var across = {};
                items.forEach(function (it) {
                    var p = it.path.split("/");
                    if (p.length < 3) { return; }
                    var k = p[0] + "/+/" + p.slice(2).join("/");
                    (across[k] = across[k] || {})[p[1]] = true;
                });
                Object.keys(across).sort().forEach(function (k) {
                    var n = Object.keys(across[k]).length;
                    if (n > 1 && (!q || k.toLowerCase().indexOf(q) !== -1)) { out.push({ kind: "group", path: k, icon: "fa-clone", count: n }); }
                });
            }
        }
        var byDevice = {};
        var order = [];
        items.forEach(function (it) {
            if (!byDevice[it.device]) { byDevice[it.device] = []; order.push(it.device); }
            byDevice[it.device].push(it);
        });
        order.forEach(function (device) {
            var d = names[device] || { device: device, count: byDevice[device].length };
            var header = {
                kind: "header",
                icon: "fa-cube",
                title: (d.name || d.kind) ? (d.name || d.kind) + " (" + device + ")" : device,
                path: kind === "tree" ? device + "/" : (kind === "filter" ? device + "/#" : device + "/"),
                narrow: kind === "item",
                count: d.count
            };
            out.push(header);
            if (kind !== "item" && q && !wild) {
                var folders = {};
                var list = [];
                byDevice[device].forEach(function (it) {
                    var parts = it.path.split("/");
                    for (var i = 3; i < parts.length; i++) {
                        var f = parts.slice(0, i).join("/");
                        if (f.toLowerCase().indexOf(q) === -1) { continue; }
                        if (!folders[f]) { folders[f] = { kind: "group", icon: "fa-folder-o", path: kind === "filter" ? f + "/#" : f, count: 0 }; list.push(folders[f]); }
                        folders[f].count++;
                    }
                });
                list.slice(0, MAX_FOLDERS).forEach(function (f) { out.push(f); });
            }
            var its = byDevice[device].slice();
            its.sort(function (a, b) {
                var ea = a.path.toLowerCase() === q ? 0 : 1;
                var eb = b.path.toLowerCase() === q ? 0 : 1;
                return ea - eb || (a.path < b.path ? -1 : (a.path > b.path ? 1 : 0));
            });
            its.forEach(function (it) {
                out.push({ kind: "item", path: it.path, value: it.value, text: it.text, label: it.label, unit: it.unit,
                    "enum": it["enum"], icon: it.writable ? "fa-pencil" : "fa-circle-o" });
            });
        });
        var more = page.total - page.items.length;
        if (more > 0 && !wild) { out.push({ kind: "more", title: "", more: more, shown: page.items.length, total: page.total }); }
        return out;
    }

    // opts: {input, server, refresh, hint, kind: "item"|"tree"|"filter", text(key, vars)}
    function attach(opts) {
        var input = opts.input;
        var kind = opts.kind;
        var generation = 0;
        var known = null;     // total items of the config node, once loaded
        var timer = null;
        var widget = typeof input.autoComplete === "function";
        var datalist = null;
        function text(key, vars) { return opts.text(key, vars); }
        function say(key, vars) { if (opts.hint) { opts.hint.text(text(key, vars)); } }
        function serverId() { return opts.server.val(); }
        // the text sent to the runtime: a typed MQTT filter is searched up to its first wildcard
        function queryOf(typed) {
            var t = (typed || "").trim().replace(/^\/+/, "");
            if (kind === "filter") { t = t.split(/[+#]/)[0]; }
            return t;
        }

        function menuRows(page, typed) {
            var q = (typed || "").trim().replace(/^\/+/, "").toLowerCase();
            return rows(page, (typed || "").trim().replace(/^\/+/, ""), kind).map(function (r) {
                if (r.kind === "more") {
                    r.title = text("picker.more", { count: r.more, shown: r.shown, total: r.total });
                    return { value: input.val(), label: renderRow(r, q, text), footer: true, onselect: function () { reopen(); } };
                }
                var opt = { value: r.path, label: renderRow(r, q, text), header: r.kind === "header" };
                if (r.narrow) {
                    // a device in gx-write: show its items
                    opt.onselect = function () { input.val(r.path); reopen(); };
                }
                return opt;
            });
        }

        function reopen() {
            window.setTimeout(function () {
                input.focus();
                input.trigger($.Event("keyup", { keyCode: 0 }));
            }, 0);
        }

        function search(value, done) {
            var id = serverId();
            var mine = ++generation;
            if (timer) { window.clearTimeout(timer); }
            timer = window.setTimeout(function () {
                timer = null;
                fetchPage(id, queryOf(value), false, function (page) {
                    if (mine !== generation) { return; }
                    if (!page) { say("picker.unavailable"); done([]); return; }
                    var shown = page.items.length;
                    if (queryOf(value) === "") { known = page.total; }
                    if (page.total === 0) {
                        say(known === 0 || known === null ? "picker.empty" : "picker.no-match");
                    } else if (shown < page.total) {
                        say("picker.shown", { shown: shown, total: page.total });
                    } else {
                        say("picker.matching", { count: page.total });
                    }
                    done(menuRows(page, value));
                });
            }, DEBOUNCE_MS);
        }

        if (widget) {
            try {
                // Enter/Tab take the first item, not a device header or the "more" row
                input.on("keydown.gx-picker", function (evt) {
                    if (evt.keyCode !== 13 && evt.keyCode !== 9) { return; }
                    var inst = input.autoComplete("instance");
                    if (!inst || !inst.completionMenuShown || !inst.menu) { return; }
                    var options = inst.menu.options() || [];
                    var pick = null;
                    for (var i = 0; i < options.length && !pick; i++) {
                        if (!options[i].header && !options[i].footer) { pick = options[i]; }
                    }
                    if (!pick) { return; }
                    evt.preventDefault();
                    evt.stopImmediatePropagation();
                    input.val(pick.value);
                    inst.menu.hide();
                    input.trigger("change");
                });
                input.autoComplete({ minLength: 0, search: search });
                // open with the live list as soon as the field is clicked (the widget only reacts to typing)
                input.on("click.gx-picker", function () { input.trigger($.Event("keyup", { keyCode: 0 })); });
            } catch (e) {
                widget = false;
            }
        }
        if (!widget) {
            var listId = (input.attr("id") || "gx-path") + "-datalist";
            $("#" + listId).remove();
            datalist = $("<datalist>", { id: listId }).insertAfter(input);
            input.attr("list", listId);
        }

        function load(force) {
            var id = serverId();
            var mine = ++generation;
            known = null;
            if (datalist) { datalist.empty(); }
            if (!id || id === "_ADD_") { say("picker.no-server"); return; }
            say("picker.loading");
            fetchPage(id, "", force, function (page) {
                if (mine !== generation) { return; }
                if (!page) { say("picker.unavailable"); return; }
                known = page.total;
                if (!page.total) { say("picker.empty"); } else { say("picker.loaded", { count: page.total }); }
                if (datalist) {
                    page.items.forEach(function (it) { $("<option>").attr("value", it.path).appendTo(datalist); });
                }
            });
        }
        opts.server.on("change", function () { load(false); });
        if (opts.refresh) {
            opts.refresh.on("click", function (evt) {
                evt.preventDefault();
                cache = {};
                load(true);
            });
        }
        load(false);
    }

    // Default node labels from the path catalogue: labelOf(path) answers at once from what is
    // known (undefined while unknown: the node shows its path), asks the runtime for new paths in
    // batches, and redraws the gx nodes when the answer comes.
    var LABEL_BATCH = 100;
    var labels = Object.create(null);
    var wanted = [];
    var labelTimer = null;

    function labelOf(target) {
        if (typeof target !== "string") { return undefined; }
        var t = target.trim().replace(/^\/+/, "");
        if (t in labels) { return labels[t] || undefined; }
        labels[t] = null; // asked once; null until the answer comes
        if (!/^[^/#]+\/[^/#]+\/[^#]+$/.test(t)) { return undefined; }
        wanted.push(t);
        if (!labelTimer) { labelTimer = window.setTimeout(fetchLabels, 30); }
        return undefined;
    }

    function fetchLabels() {
        labelTimer = null;
        var batch = wanted.splice(0, LABEL_BATCH);
        if (wanted.length > 0) { labelTimer = window.setTimeout(fetchLabels, 30); }
        if (batch.length === 0) { return; }
        try {
            $.getJSON("gx-catalogue/labels?" + batch.map(function (p) { return "p=" + encodeURIComponent(p); }).join("&"))
                .done(function (data) {
                    var changed = false;
                    batch.forEach(function (t) {
                        var l = (data && typeof data[t] === "string") ? data[t] : null;
                        if (l) { changed = true; }
                        labels[t] = l;
                    });
                    if (changed) { redrawGxNodes(); }
                });
        } catch (e) { /* no labels: the nodes show their paths */ }
    }

    function redrawGxNodes() {
        try {
            RED.nodes.eachNode(function (n) { if (/^gx-/.test(n.type)) { n.dirty = true; } });
            RED.view.redraw();
        } catch (e) { /* the editor is not ready */ }
    }

    window.GxBridgeEditor = { attach: attach, fetchPage: fetchPage, itemsUrl: itemsUrl, rows: rows, renderRow: renderRow, labelOf: labelOf };
})();
