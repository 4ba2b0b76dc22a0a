import Foundation

/// The page of `kiln-pipe view`: one self-contained HTML file (inline CSS and JavaScript, no framework, no request
/// outside the server it came from). It reads the viewer's JSON API, or — as `view --static` writes it — the same
/// data embedded in the file.
package enum ViewerPage {
    /// The page; `embedded` is the static bundle's JSON (nil: ask the server).
    package static func html(embedded: String? = nil) -> String {
        let data =
            embedded.map {
                // `</script>` inside a string would end the script element.
                "<script>window.KILN_DATA = " + $0.replacingOccurrences(of: "</", with: "<\\/") + ";</script>\n"
            } ?? ""
        return head + data + "<script>\n" + script + "\n</script>\n</body></html>\n"
    }

    static let head = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>kiln-pipe view</title>
        <style>
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1b1f24}
        header{background:#24292f;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
        header a{color:#fff;text-decoration:none;font-weight:600} main{padding:16px 20px;max-width:1400px}
        h1{font-size:20px;margin:4px 0 12px} h2{font-size:16px;margin:20px 0 8px}
        table{border-collapse:collapse;margin:8px 0} th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;
        vertical-align:top} th{background:#f6f8fa} td.n{text-align:right;font-variant-numeric:tabular-nums}
        .pass{color:#1a7f37} .fail{color:#cf222e} .muted{color:#57606a}
        .bad{background:#ffebe9} .good{background:#dafbe1}
        pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:8px;border-radius:6px;margin:4px 0}
        .controls{display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin:8px 0}
        .card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:8px 0}
        .side{display:grid;grid-template-columns:1fr 1fr;gap:12px} .bar{background:#eaeef2;height:10px;width:240px;
        border-radius:5px;display:inline-block}
        .bar span{display:block;height:10px;background:#4f8ef7;border-radius:5px}
        #error{color:#cf222e} button{cursor:pointer}
        </style></head><body>
        <header><a href="#/">kiln-pipe view</a><span id="where" class="muted"></span></header>
        <main><div id="error"></div><div id="live"></div><div id="page">Loading…</div></main>

        """

    static let script = #"""
        "use strict";
        const DATA = window.KILN_DATA || null;
        window.kilnTimings = {};
        const $ = (selector) => document.querySelector(selector);
        const all = (selector) => [...document.querySelectorAll(selector)];
        const enc = encodeURIComponent;
        const ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
        const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
        const fmt = (value) =>
          value == null ? "–" : Number.isInteger(value) ? String(value) : Number(value).toFixed(3);
        const text = (value) =>
          value == null ? "" : typeof value === "string" ? value : JSON.stringify(value, null, 2);
        const money = (value) => "$" + Number(value || 0).toFixed(4);
        const when = (seconds) => new Date(seconds * 1000).toLocaleString();
        const commit = (run) => esc((run.git_commit || "–").slice(0, 7));
        const option = (value, label, selected) =>
          `<option value="${esc(value)}" ${selected ? "selected" : ""}>${esc(label)}</option>`;
        const runLink = (pipeline, id) => `#/run/${enc(pipeline)}/${enc(id)}`;
        let cache = {};

        function fromFile(path, params) {
          const pair = params.pipeline + "/" + params.a + "/" + params.b;
          if (path === "/api/runs") return DATA.runs;
          if (path === "/api/run") return DATA.details[params.pipeline + "/" + params.id];
          if (path === "/api/item") return DATA.items[params.hash];
          if (path === "/api/compare" && !params.va) return DATA.compares[pair];
          return undefined;
        }

        async function api(path, params = {}) {
          if (DATA) {
            const found = fromFile(path, params);
            if (found) return found;
            throw new Error(path === "/api/compare"
              ? "this static file compares each run with the one before it; kiln-pipe view compares any two"
              : "this static file does not include that; kiln-pipe view shows it");
          }
          const response = await fetch(path + "?" + new URLSearchParams(params));
          const body = await response.json();
          if (!response.ok) throw new Error(body.error || response.statusText);
          return body;
        }

        async function runs(fresh) {
          if (fresh || !cache.runs) cache.runs = await api("/api/runs");
          return cache.runs;
        }

        async function runDetail(pipeline, id) {
          const key = pipeline + "/" + id;
          if (!cache[key]) cache[key] = await api("/api/run", {pipeline, id});
          return cache[key];
        }

        function verdictCell(run) {
          const good = run.verdict === "passed";
          return `<td class="${good ? "pass" : "fail"}">${good ? "✓" : "✗"} ${esc(run.verdict)}</td>`;
        }

        function scoreSummary(run) {
          const parts = [];
          for (const summary of run.judged || []) {
            const types = summary.score_types || {};
            for (const [model, scores] of Object.entries(summary.models || {})) {
              const cells = Object.entries(scores).slice(0, 4).map(([name, stats]) => {
                const mean = (types[name] || "five_star") === "five_star";
                return `${esc(name)} ${mean ? fmt(stats.mean) : Math.round(100 * stats.pass_rate) + "%"}`;
              });
              parts.push(`<span class="muted">${esc(summary.stage)}/${esc(model)}:</span> ${cells.join(", ")}`);
            }
          }
          return parts.slice(0, 3).join("<br>") + (parts.length > 3 ? "<br>…" : "");
        }

        function liveStage(stage) {
          const done = stage.cached + stage.computed + stage.failed;
          const width = stage.total ? Math.min(100, 100 * done / stage.total) : 0;
          return `<tr><td>${esc(stage.id)}</td>
            <td><span class="bar"><span style="width:${width}%"></span></span></td>
            <td class="n">${stage.cached + stage.computed}${stage.total ? " / " + stage.total : ""}</td>
            <td class="n ${stage.failed ? "fail" : ""}">${stage.failed} failed</td></tr>`;
        }

        function renderLive(list) {
          const live = list.pipelines.flatMap((pipeline) => pipeline.live || []);
          $("#live").innerHTML = live.map((run) => `<div class="card live-run">
            <b>running: ${esc(run.pipeline)}</b> <span class="muted">since ${when(run.started_at)}</span>
            <table>${run.stages.map(liveStage).join("")}</table></div>`).join("");
          return live.length > 0;
        }

        let polling = null;
        async function poll() {
          clearTimeout(polling);
          if (DATA) return;
          try {
            const counts = (list) => list ? list.pipelines.map((p) => p.runs.length).join() : "";
            const before = counts(cache.runs);
            const list = await runs(true);
            const going = renderLive(list);
            if (before && before !== counts(list) && location.hash.replace(/^#\/?/, "") === "") route();
            polling = setTimeout(poll, going ? 1000 : 5000);
          } catch (error) {
            polling = setTimeout(poll, 5000);
          }
        }

        function runRow(pipeline, run) {
          const items = (run.judged || []).reduce((sum, stage) => sum + (stage.items || 0), 0);
          return `<tr class="run" data-id="${esc(run.id)}">
            <td><input type="checkbox" class="pick" value="${esc(run.id)}"></td>
            <td><a class="run-link" href="${runLink(pipeline.name, run.id)}">${esc(run.id)}</a></td>
            <td>${when(run.started_at)}</td><td>${commit(run)}</td>${verdictCell(run)}
            <td class="n">${items || "–"}</td><td>${scoreSummary(run)}</td>
            <td class="n">${money(run.cost.cost_usd)}</td><td class="n">${money(run.paid.cost_usd)}</td></tr>`;
        }

        function pipelineRuns(pipeline) {
          let html = `<h1>${esc(pipeline.name)} <span class="muted">${esc(pipeline.file)}</span></h1>`;
          if (!pipeline.runs.length) {
            return html + `<p class="muted">No run recorded yet: kiln-pipe run ${esc(pipeline.file)}</p>`;
          }
          const name = esc(pipeline.name);
          html += `<div class="controls"><button class="compare-button" data-pipeline="${name}">
            Compare the two selected runs</button></div>
            <table class="runs" data-pipeline="${name}"><thead><tr><th></th><th>run</th><th>started</th>
            <th>commit</th><th>verdict</th><th>items</th><th>scores</th><th>cost</th><th>paid</th></tr></thead>
            <tbody>`;
          for (const run of pipeline.runs.slice().reverse()) html += runRow(pipeline, run);
          return html + "</tbody></table>";
        }

        function compareSelected(button) {
          const pipeline = button.dataset.pipeline;
          const table = document.querySelector(`table.runs[data-pipeline="${CSS.escape(pipeline)}"]`);
          const picked = [...table.querySelectorAll("input.pick:checked")].map((box) => box.value);
          if (picked.length !== 2) {
            $("#error").textContent = "Select exactly two runs to compare.";
            return;
          }
          picked.reverse();  // the list is newest first: compare the older with the newer
          location.hash = `#/compare/${enc(pipeline)}/${enc(picked[0])}/${enc(picked[1])}`;
        }

        async function pageRuns() {
          const started = performance.now();
          const list = await runs(false);
          renderLive(list);
          $("#page").innerHTML = list.pipelines.map(pipelineRuns).join("");
          $("#where").textContent = "runs";
          for (const button of all(".compare-button")) button.onclick = () => compareSelected(button);
          window.kilnTimings.runs = performance.now() - started;
        }

        /// JUnit's rule: a five_star score fails below 3, the others below 0.5.
        function fails(value, type) { return type === "five_star" ? value < 3 : value < 0.5; }

        /// Per score, the least an item needs to meet the stage's thresholds for its variant or model.
        function thresholdLimits(summary, group) {
          const limits = {};
          for (const t of summary.thresholds || []) {
            if (t.model && t.model !== group) continue;
            const match = /^(\w+)\s*(>=|>)\s*(-?[\d.]+)/.exec(t.condition || "");
            if (!match) continue;
            const value = match[1].startsWith("pass_rate") ? 0.5 : Number(match[3]);
            limits[t.score] = Math.max(limits[t.score] ?? -Infinity, value);
          }
          return limits;
        }

        function shownItems(stage, summary, query) {
          const filter = query.get("filter") || "all";
          const variant = query.get("variant") || "";
          const search = (query.get("q") || "").toLowerCase();
          return stage.items.filter((item) => {
            if (variant && item[1] !== variant) return false;
            if (search && !item[0].toLowerCase().includes(search)) return false;
            const scores = Object.entries(item[3]);
            if (filter === "failed") return scores.some(([name, value]) => fails(value, stage.score_types[name]));
            if (filter === "below") {
              const limits = thresholdLimits(summary, item[1]);
              return scores.some(([name, value]) => limits[name] != null && value < limits[name]);
            }
            return true;
          });
        }

        function thresholdTable(summary) {
          if (!(summary.thresholds || []).length) return "";
          const row = (t) => `<tr><td class="${t.passed ? "pass" : "fail"}">${t.passed ? "✓" : "✗"}</td>
            <td>${esc(t.model || "all")}</td><td>${esc(t.score)}</td><td><code>${esc(t.condition)}</code></td>
            <td class="n">${fmt(t.actual)}</td></tr>`;
          return `<table id="thresholds"><tr><th></th><th>variant/model</th><th>score</th><th>condition</th>
            <th>actual</th></tr>${summary.thresholds.map(row).join("")}</table>`;
        }

        function controls(stages, stage, groups, query, count) {
          const filter = query.get("filter") || "all";
          const variant = query.get("variant") || "";
          let html = `<div class="controls">
            <label>stage <select id="stage">${stages.map((s) => option(s.stage, s.stage, s === stage)).join("")}
            </select></label>
            <label>show <select id="filter">${option("all", "all items", false)}
            ${option("failed", "failed", filter === "failed")}
            ${option("below", "below a threshold", filter === "below")}
            </select></label>
            <label>variant <select id="variant">${option("", "all", false)}
            ${groups.map((g) => option(g, g, g === variant)).join("")}</select></label>
            <label>find <input id="search" value="${esc(query.get("q") || "")}" placeholder="item id"></label>
            <span id="count" class="muted">${count} of ${stage.items.length} items</span></div>`;
          if (groups.length > 1) {
            html += `<div class="controls">compare variants
              <select id="va">${groups.map((g, i) => option(g, g, i === 0)).join("")}</select> with
              <select id="vb">${groups.map((g, i) => option(g, g, i === 1)).join("")}</select>
              <button id="compare-variants">Compare</button></div>`;
          }
          return html;
        }

        function itemRow(pipeline, id, stage, item) {
          const cells = stage.scores.map((name) => {
            const value = item[3][name];
            const bad = value != null && fails(value, stage.score_types[name]);
            return `<td class="n ${bad ? "bad" : ""}">${fmt(value)}</td>`;
          }).join("");
          const href = `#/item/${enc(pipeline)}/${enc(id)}/${item[2]}`;
          return `<tr class="item"><td><a class="item-link" href="${href}">${esc(item[0])}</a></td>
            <td>${esc(item[1])}</td>${cells}</tr>`;
        }

        async function pageRun(pipeline, id, query) {
          const started = performance.now();
          const detail = await runDetail(pipeline, id);
          const run = detail.run;
          const stages = detail.stages;
          $("#where").textContent = `${pipeline} · ${id}`;
          if (!stages.length) {
            $("#page").innerHTML = `<h1>${esc(id)}</h1><p>This run judged nothing (no judge stage ran).</p>`;
            return;
          }
          const stage = stages.find((s) => s.stage === query.get("stage")) || stages[0];
          const summary = (run.judged || []).find((s) => s.stage === stage.stage) || {};
          const groups = [...new Set(stage.items.map((item) => item[1]))];
          const rows = shownItems(stage, summary, query);
          const page = Number(query.get("page") || 0), perPage = 200;
          const link = (changes) => {
            const next = new URLSearchParams(query);
            for (const [key, value] of Object.entries(changes)) {
              if (value === "" || value == null) next.delete(key); else next.set(key, value);
            }
            return runLink(pipeline, id) + "?" + next;
          };
          const verdict = run.verdict === "passed" ? "pass" : "fail";
          let html = `<h1>${esc(pipeline)} · ${esc(id)} <span class="${verdict}">${esc(run.verdict)}</span></h1>
            <p class="muted">${esc(run.outcome)} · started ${when(run.started_at)} · commit ${commit(run)}
            · results cost ${money(run.cost.cost_usd)}, this run paid ${money(run.paid.cost_usd)}</p>`;
          html += thresholdTable(summary) + controls(stages, stage, groups, query, rows.length);
          html += `<table id="items"><thead><tr><th>item</th><th>variant/model</th>
            ${stage.scores.map((s) => `<th>${esc(s)}</th>`).join("")}</tr></thead><tbody>
            ${rows.slice(page * perPage, (page + 1) * perPage).map((i) => itemRow(pipeline, id, stage, i)).join("")}
            </tbody></table>`;
          if (rows.length > perPage) {
            const previous = page > 0 ? `<a href="${link({page: page - 1})}">← previous</a>` : "";
            const more = (page + 1) * perPage < rows.length;
            const next = more ? `<a id="next-page" href="${link({page: page + 1})}">next →</a>` : "";
            html += `<div class="controls">${previous} page ${page + 1} of ${Math.ceil(rows.length / perPage)}
              ${next}</div>`;
          }
          $("#page").innerHTML = html;
          $("#stage").onchange = (e) => { location.hash = link({stage: e.target.value, page: ""}); };
          $("#filter").onchange = (e) => { location.hash = link({filter: e.target.value, page: ""}); };
          $("#variant").onchange = (e) => { location.hash = link({variant: e.target.value, page: ""}); };
          $("#search").onchange = (e) => { location.hash = link({q: e.target.value, page: ""}); };
          if ($("#compare-variants")) $("#compare-variants").onclick = () => {
            const variants = new URLSearchParams({va: $("#va").value, vb: $("#vb").value});
            location.hash = `#/compare/${enc(pipeline)}/${enc(id)}/${enc(id)}?${variants}`;
          };
          window.kilnTimings.run = performance.now() - started;
        }

        function block(title, id, value) {
          if (value == null || value === "") return "";
          return `<h2>${esc(title)}</h2><pre id="${id}">${esc(text(value))}</pre>`;
        }

        function traceMessage(message) {
          const calls = message.tool_calls ? `<pre>${esc(text(message.tool_calls))}</pre>` : "";
          const content = message.content != null ? `<pre>${esc(text(message.content))}</pre>` : "";
          return `<div class="card"><b>${esc(message.role)}</b>${calls}${content}</div>`;
        }

        async function pageItem(pipeline, id, hash) {
          const started = performance.now();
          const item = await api("/api/item", {pipeline, hash});
          const name = item.source_row || item.source_id || item.id || hash;
          $("#where").textContent = `${pipeline} · ${id} · ${name}`;
          const scores = Object.entries(item.scores || {});
          const judge = item.judge || {};
          let html = `<p><a href="${runLink(pipeline, id)}">← ${esc(id)}</a></p>
            <h1 id="item">${esc(name)} <span class="muted">${esc(item.variant || item.model || "")}</span></h1>
            <table id="scores"><tr>${scores.map(([score]) => `<th>${esc(score)}</th>`).join("")}</tr>
            <tr>${scores.map(([, value]) => `<td class="n">${fmt(value)}</td>`).join("")}</tr></table>`;
          html += block("Input", "input", item.input) + block("Reference (expected)", "expected", item.expected);
          html += block("Output", "output", item.output) + block("Reasoning", "reasoning", item.reasoning);
          html += block("Judge", "judge", judge.reasoning);
          html += block("Failed assertions", "assertions", item.assertion_failures);
          if (Array.isArray(item.trace)) {
            html += `<h2>Trace</h2><div id="trace">${item.trace.map(traceMessage).join("")}</div>`;
          }
          html += block("Retrieved", "retrieved", item.retrieved);
          const provenance = Object.entries(item.provenance || {})
            .map(([key, value]) => `<tr><th>${esc(key)}</th><td>${esc(text(value))}</td></tr>`).join("");
          const judgeRow = judge.provider
            ? `<tr><th>judge</th><td>${esc(judge.provider)} (${esc(judge.method || "")})</td></tr>` : "";
          html += `<h2>Provenance</h2><table id="provenance">${provenance}${judgeRow}</table>`;
          $("#page").innerHTML = html;
          window.kilnTimings.item = performance.now() - started;
        }

        function changeSide(label, item) {
          if (!item) return `<div class="muted">${label}: –</div>`;
          const scores = Object.entries(item.scores || {}).map(([k, v]) => `${esc(k)} ${fmt(v)}`).join(", ");
          const reason = item.reason ? `<div class="muted">${esc(item.reason)}</div>` : "";
          return `<div><b>${label}</b> ${scores}<pre class="out">${esc(item.output)}</pre>${reason}</div>`;
        }

        function changeCard(change) {
          const deltas = change.deltas.map((d) => `${esc(d.score)} ${fmt(d.before)} → ${fmt(d.after)}`).join(", ");
          const input = (change.after || change.before || {}).input;
          return `<li class="change card ${esc(change.change)}"><b>${esc(change.id)}</b>
            <span class="muted">${esc(change.model)}</span> ${deltas}
            ${input ? `<pre class="in">${esc(input)}</pre>` : ""}
            <div class="side">${changeSide("before", change.before)}${changeSide("after", change.after)}</div></li>`;
        }

        function scoreChange(row) {
          const m = row.mean;
          const sign = (value) => (value >= 0 ? "+" : "") + Number(value).toFixed(3);
          const shade = m.ci95[1] < 0 ? "bad" : m.ci95[0] > 0 ? "good" : "";
          return `<tr><td>${esc(row.stage)}</td><td>${esc(row.model)}</td><td>${esc(row.score)}</td>
            <td class="n">${fmt(m.before)}</td><td class="n">${fmt(m.after)}</td>
            <td class="n ${shade}">${sign(m.delta)} [${sign(m.ci95[0])}, ${sign(m.ci95[1])}]</td></tr>`;
        }

        const KINDS = ["regressed", "improved", "appeared", "disappeared"];

        async function pageCompare(pipeline, a, b, query) {
          const started = performance.now();
          const params = {pipeline, a, b};
          if (query.get("va")) Object.assign(params, {va: query.get("va"), vb: query.get("vb")});
          const comparison = await api("/api/compare", params);
          $("#where").textContent = `${pipeline} · compare`;
          const count = (kind) => comparison.items.filter((item) => item.change === kind).length;
          let html = `<h1 id="compare">${esc(comparison.before)} → ${esc(comparison.after)}</h1>`;
          html += `<p>${KINDS.map((kind) => `${count(kind)} ${kind}`).join(", ")}, ${comparison.unchanged} unchanged`;
          if (comparison.changed_stages.length) {
            html += ` · stages asked something else: ${comparison.changed_stages.map(esc).join(", ")}`;
          }
          html += `</p><table id="score-changes"><tr><th>stage</th><th>model</th><th>score</th><th>before</th>
            <th>after</th><th>change [95% CI]</th></tr>${comparison.scores.map(scoreChange).join("")}</table>`;
          for (const kind of KINDS) {
            const changes = comparison.items.filter((item) => item.change === kind);
            if (!changes.length) continue;
            html += `<h2>${kind} (${changes.length})</h2>
              <ul class="${kind}">${changes.slice(0, 200).map(changeCard).join("")}</ul>`;
          }
          $("#page").innerHTML = html;
          window.kilnTimings.compare = performance.now() - started;
        }

        async function route() {
          $("#error").textContent = "";
          const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
          const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
          const query = new URLSearchParams(search || "");
          try {
            if (parts[0] === "run") await pageRun(parts[1], parts[2], query);
            else if (parts[0] === "item") await pageItem(parts[1], parts[2], parts[3]);
            else if (parts[0] === "compare") await pageCompare(parts[1], parts[2], parts[3], query);
            else await pageRuns();
            document.body.dataset.ready = location.hash || "#/";
          } catch (error) {
            $("#error").textContent = String(error.message || error);
            document.body.dataset.ready = "error";
          }
        }

        window.addEventListener("hashchange", route);
        route().then(poll);
        """#
}
