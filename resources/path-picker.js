// Path picker shared by the gx-notify, gx-read and gx-write editors (Node-RED serves this
// folder at resources/@gx-bridge/node-red-gx/). It asks the runtime for the items the selected
// gx-config node knows (GET gx-config/<id>/items → {"items":[{"path":"battery/256/Soc","value":…},…]})
// and offers them while typing; any failure leaves a plain text box.
(function () {
    "use strict";
    if (!window.GxBridgeEditor) {
        window.GxBridgeEditor = (function () {
            var CACHE_MS = 20000;
            var MAX_SHOWN = 100;
            var cache = {};

            function itemsUrl(configId) {
                return "gx-config/" + encodeURIComponent(configId) + "/items";
            }

            function normalise(data) {
                var list = (data && Array.isArray(data.items)) ? data.items : (Array.isArray(data) ? data : []);
                var out = [];
                var seen = {};
                list.forEach(function (it) {
                    var p = (typeof it === "string") ? it : (it && typeof it.path === "string" ? it.path : null);
                    if (!p) { return; }
                    p = p.replace(/^\/+/, "");
                    if (!p || seen[p]) { return; }
                    seen[p] = true;
                    out.push({ path: p, value: (it && typeof it === "object") ? it.value : undefined });
                });
                out.sort(function (a, b) { return a.path < b.path ? -1 : (a.path > b.path ? 1 : 0); });
                return out;
            }

            // cb(items) with an array, or cb(null) when the list is not available.
            function fetchItems(configId, force, cb) {
                if (!configId || configId === "_ADD_") { cb(null); return; }
                var c = cache[configId];
                var now = Date.now();
                if (c && !force) {
                    if (c.pending) { c.pending.push(cb); return; }
                    if (now - c.time < CACHE_MS) { cb(c.items); return; }
                }
                c = cache[configId] = { time: now, items: null, pending: [cb] };
                function settle(items) {
                    c.items = items;
                    c.time = Date.now();
                    var waiting = c.pending || [];
                    c.pending = null;
                    waiting.forEach(function (f) { try { f(items); } catch (e) { /* a closed dialog */ } });
                }
                try {
                    $.getJSON(itemsUrl(configId))
                        .done(function (data) { settle(normalise(data)); })
                        .fail(function () { settle(null); });
                } catch (e) {
                    settle(null);
                }
            }

            function formatValue(v) {
                if (v === undefined) { return ""; }
                var s;
                try { s = JSON.stringify(v); } catch (e) { s = String(v); }
                if (s === undefined) { s = String(v); }
                return s.length > 32 ? s.slice(0, 31) + "…" : s;
            }

            // Candidates for one kind of field:
            //  "item"   – leaf items only (gx-write)
            //  "tree"   – items, sub-trees and whole services "type/instance/" (gx-read)
            //  "filter" – items, "…/#" sub-trees, "type/+/<path>" across instances and "#" (gx-notify)
            function candidates(items, kind) {
                var out = [];
                var groups = {};
                var order = [];
                function group(key, icon) {
                    if (!groups[key]) { groups[key] = { path: key, count: 0, icon: icon }; order.push(key); }
                    groups[key].count++;
                }
                items.forEach(function (it) {
                    out.push({ path: it.path, value: it.value, icon: "fa-circle-o" });
                    if (kind === "item") { return; }
                    var parts = it.path.split("/");
                    if (parts.length < 3) { return; }
                    if (kind === "tree") {
                        group(parts[0] + "/" + parts[1] + "/", "fa-cube");
                        for (var i = 3; i < parts.length; i++) { group(parts.slice(0, i).join("/"), "fa-folder-o"); }
                    } else {
                        group(parts[0] + "/+/" + parts.slice(2).join("/"), "fa-clone");
                        group(parts[0] + "/#", "fa-cubes");
                        for (var j = 2; j < parts.length; j++) { group(parts.slice(0, j).join("/") + "/#", "fa-folder-o"); }
                    }
                });
                order.forEach(function (k) {
                    // "type/+/path" is only worth offering when more than one instance has that path
                    if (kind === "filter" && k.indexOf("/+/") > 0 && groups[k].count < 2) { return; }
                    out.push(groups[k]);
                });
                if (kind === "filter" && items.length) { out.push({ path: "#", count: items.length, icon: "fa-asterisk" }); }
                return out;
            }

            function rank(c, q) {
                var p = c.path.toLowerCase();
                if (p === q) { return 0; }
                if (p.indexOf(q) === 0) { return 1; }
                return 2;
            }

            function search(list, value, countText) {
                var q = (value || "").trim().toLowerCase();
                var hits = [];
                for (var i = 0; i < list.length; i++) {
                    var idx = list[i].path.toLowerCase().indexOf(q);
                    if (idx !== -1) { hits.push({ c: list[i], idx: idx, rank: rank(list[i], q) }); }
                }
                hits.sort(function (a, b) {
                    if (a.rank !== b.rank) { return a.rank - b.rank; }
                    return a.c.path.length - b.c.path.length || (a.c.path < b.c.path ? -1 : 1);
                });
                return hits.slice(0, MAX_SHOWN).map(function (h) {
                    var c = h.c;
                    var row = $("<div>", { style: "display:flex; justify-content:space-between; gap:12px; white-space:nowrap;" });
                    var left = $("<span>", { style: "overflow:hidden; text-overflow:ellipsis;" }).appendTo(row);
                    $("<i>", { class: "fa " + c.icon, style: "opacity:0.6; margin-right:6px;" }).appendTo(left);
                    if (q && h.idx !== -1) {
                        $("<span>").text(c.path.slice(0, h.idx)).appendTo(left);
                        $("<b>").text(c.path.slice(h.idx, h.idx + q.length)).appendTo(left);
                        $("<span>").text(c.path.slice(h.idx + q.length)).appendTo(left);
                    } else {
                        $("<span>").text(c.path).appendTo(left);
                    }
                    var right = (c.count !== undefined) ? countText(c.count) : formatValue(c.value);
                    $("<span>", { style: "opacity:0.6; font-family:monospace;" }).text(right).appendTo(row);
                    return { value: c.path, label: row };
                });
            }

            // opts: {input, server, refresh, hint, kind, text(key, vars)}
            function attach(opts) {
                var input = opts.input;
                var list = [];
                var useWidget = typeof input.autoComplete === "function";
                var datalist = null;
                var generation = 0;
                function say(key, vars) {
                    if (opts.hint) { opts.hint.text(opts.text(key, vars)); }
                }
                if (useWidget) {
                    try {
                        input.autoComplete({
                            minLength: 0,
                            search: function (value, done) {
                                done(search(list, value, function (n) { return opts.text("picker.count", { n: n }); }));
                            }
                        });
                    } catch (e) {
                        useWidget = false;
                    }
                }
                if (!useWidget) {
                    var id = (input.attr("id") || "gx-path") + "-datalist";
                    $("#" + id).remove();
                    datalist = $("<datalist>", { id: id }).insertAfter(input);
                    input.attr("list", id);
                }
                function fill(items) {
                    list = items ? candidates(items, opts.kind) : [];
                    if (datalist) {
                        datalist.empty();
                        list.slice(0, 2000).forEach(function (c) {
                            $("<option>").attr("value", c.path).appendTo(datalist);
                        });
                    }
                }
                function load(force) {
                    var serverId = opts.server.val();
                    var mine = ++generation;
                    fill(null);
                    if (!serverId || serverId === "_ADD_") { say("picker.no-server"); return; }
                    say("picker.loading");
                    fetchItems(serverId, force, function (items) {
                        if (mine !== generation) { return; }
                        fill(items);
                        if (!items) { say("picker.unavailable"); }
                        else if (!items.length) { say("picker.empty"); }
                        else { say("picker.loaded", { n: items.length }); }
                    });
                }
                opts.server.on("change", function () { load(false); });
                if (opts.refresh) {
                    opts.refresh.on("click", function (evt) { evt.preventDefault(); load(true); });
                }
                load(false);
            }

            return { attach: attach, fetchItems: fetchItems, itemsUrl: itemsUrl };
        })();
    }
})();
