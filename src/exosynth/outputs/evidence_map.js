// The evidence map's behaviour: draw the cells, filter them, list a clicked cell.
// The cells are recomputed here by the rule of exosynth.synthesis.evidence_map.evidence_cells
// (and risk_class); "Colour by" draws them by highest stage or by risk of bias.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("evidence-data").textContent);
  const plot = document.getElementById("evidence-map");
  const details = document.getElementById("details");
  const shown = document.getElementById("shown");
  const ROW_HEIGHT = 34; // px per condition group
  const MAX_DIAMETER = 30; // px of the largest bubble (the most studies in a cell, unfiltered)

  const index = (items) => new Map(items.map((item, i) => [item.code, i]));
  const label = (items) => new Map(items.map((item) => [item.code, item.label]));
  const stageRank = index(data.stages);
  const stageLabel = label(data.stages);
  const sourceRank = index(data.sources);
  const sourceLabel = label(data.sources);
  sourceLabel.set(data.unspecified.code, data.unspecified.label);
  const NOT_ASSESSED = "not_assessed";
  const LOW_RISK = "low_risk";
  const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // code units, as Python sorts
  let selected = null; // [source, group] of the listed cell

  function checked(name) {
    const boxes = document.querySelectorAll(`input[name="${name}"]:checked`);
    return new Set(Array.from(boxes, (box) => box.value));
  }

  function colourMode() {
    return document.querySelector('input[name="colour"]:checked').value;
  }

  // The rule of exosynth.synthesis.evidence_map.risk_class.
  function riskClass(nAssessed, nLow) {
    if (nAssessed === 0) return "none_assessed";
    if (nLow === nAssessed) return "all_low";
    if (nLow === 0) return "none_low";
    return "some_low";
  }

  function filtered() {
    const sources = checked("source");
    const species = checked("species");
    const stages = checked("stage");
    return data.studies.filter(
      (s) =>
        sources.has(s.source) &&
        stages.has(s.stage) &&
        (s.species.length === 0 ? species.has("") : s.species.some((x) => species.has(x)))
    );
  }

  function cells(studies) {
    const byCell = new Map();
    const byGroup = new Map();
    for (const s of studies) {
      const key = JSON.stringify([s.source, s.group]);
      if (!byCell.has(key)) {
        const cell = { source: s.source, condition_group: s.group, n_studies: 0, n_assessed: 0, n_low_risk: 0 };
        data.stages.forEach((stage) => { cell["n_" + stage.code] = 0; });
        byCell.set(key, cell);
      }
      const cell = byCell.get(key);
      const rank = stageRank.get(s.stage);
      cell.n_studies += 1;
      cell["n_" + s.stage] += 1;
      if (s.risk !== NOT_ASSESSED) cell.n_assessed += 1;
      if (s.risk === LOW_RISK) cell.n_low_risk += 1;
      if (cell.rank === undefined || rank > cell.rank) cell.rank = rank;
      const group = byGroup.get(s.group) || { n: 0, rank: -1 };
      group.n += 1;
      group.rank = Math.max(group.rank, rank);
      byGroup.set(s.group, group);
    }
    const out = Array.from(byCell.values());
    for (const cell of out) {
      cell.highest_stage = data.stages[cell.rank].code;
      cell.low_risk_share = cell.n_assessed > 0 ? cell.n_low_risk / cell.n_assessed : null;
      cell.risk_class = riskClass(cell.n_assessed, cell.n_low_risk);
      cell.groupStudies = byGroup.get(cell.condition_group).n;
      cell.groupRank = byGroup.get(cell.condition_group).rank;
    }
    out.sort(
      (a, b) =>
        b.groupStudies - a.groupStudies ||
        b.groupRank - a.groupRank ||
        compare(a.condition_group, b.condition_group) ||
        sourceRank.get(a.source) - sourceRank.get(b.source) ||
        compare(a.source, b.source)
    );
    return out.map(({ rank, groupStudies, groupRank, ...cell }) => cell);
  }

  // A cell's risk of bias in words: "1 of 2 assessed at low risk of bias (50%), 1 not assessed".
  function riskWords(c) {
    const notAssessed = c.n_studies - c.n_assessed;
    if (c.n_assessed === 0) return "no study assessed for risk of bias";
    const share = Math.round(100 * c.low_risk_share);
    return (
      `${c.n_low_risk} of ${c.n_assessed} assessed at low risk of bias (${share}%)` +
      (notAssessed ? `, ${notAssessed} not assessed` : "")
    );
  }

  // One trace per colour class of the mode chosen: the stages, or the risk-of-bias classes.
  function traces(cellList) {
    const sizeref = (2 * data.max_studies) / (MAX_DIAMETER * MAX_DIAMETER);
    const byRisk = colourMode() === "risk";
    const classes = byRisk ? data.risk_classes : data.stages;
    return classes.map((kind) => {
      const mine = cellList.filter((c) => (byRisk ? c.risk_class : c.highest_stage) === kind.code);
      const open = kind.code === "none_assessed";
      return {
        type: "scatter",
        mode: "markers+text",
        name: kind.label,
        uid: kind.code, // the drawn trace's class: "trace" + uid (tests find a bubble by it)
        x: mine.map((c) => sourceLabel.get(c.source)),
        y: mine.map((c) => c.condition_group),
        text: mine.map((c) => String(c.n_studies)),
        textfont: { color: kind.code === "clinical" ? "#ffffff" : "#1a1a1a", size: 12 },
        customdata: mine.map((c) => [
          c.source,
          c.condition_group,
          data.stages.map((s) => `${c["n_" + s.code]} ${s.label.toLowerCase()}`).join(", "),
          c.n_studies === 1 ? "study" : "studies",
          stageLabel.get(c.highest_stage).toLowerCase(),
          riskWords(c),
        ]),
        hovertemplate:
          "<b>%{x} · %{y}</b><br>%{text} %{customdata[3]}: %{customdata[2]}" +
          "<br>highest stage reached: %{customdata[4]}<br>%{customdata[5]}" +
          "<br>click to list them<extra></extra>",
        hoverlabel: { align: "left" },
        marker: {
          size: mine.map((c) => c.n_studies),
          sizemode: "area",
          sizeref: sizeref,
          sizemin: 8,
          color: kind.colour,
          opacity: 1,
          // No study assessed: a white bubble in a thick grey ring, neither low nor high.
          line: open ? { color: data.not_assessed_ring, width: 2 } : { color: "#333333", width: 1 },
        },
        cliponaxis: false,
      };
    });
  }

  function showLegend() {
    const mode = colourMode();
    document.querySelectorAll("#colour-legend .legend").forEach((node) => {
      node.hidden = node.getAttribute("data-mode") !== mode;
    });
  }

  function layout(cellList) {
    const groups = data.groups.filter((g) => cellList.some((c) => c.condition_group === g));
    const sources = data.sources.filter((s) => checked("source").has(s.code)).map((s) => s.label);
    return {
      height: 130 + ROW_HEIGHT * Math.max(groups.length, 3),
      margin: { l: 10, r: 20, t: 60, b: 20 },
      xaxis: {
        type: "category",
        categoryorder: "array",
        categoryarray: sources,
        range: [-0.5, sources.length - 0.5],
        side: "top",
        fixedrange: true,
        title: { text: "MSC source" },
      },
      yaxis: {
        type: "category",
        categoryorder: "array",
        categoryarray: groups,
        range: [groups.length - 0.5, -0.5],
        automargin: true,
        fixedrange: true,
        title: { text: "" },
      },
      showlegend: false, // the legend in words above the map (#colour-legend) says it all
      hovermode: "closest",
      plot_bgcolor: "#ffffff",
      font: { family: "system-ui, sans-serif", size: 12 },
    };
  }

  // Only "download as PNG" in the mode bar: the axes are fixed, there is nothing to zoom.
  const config = { displaylogo: false, responsive: true, modeBarButtons: [["toImage"]] };

  function element(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  }

  function link(text, href) {
    if (!href) return element("span", text);
    return element("a", text, { href: href, target: "_blank", rel: "noopener noreferrer" });
  }

  function trialList(trials) {
    if (trials.length === 0) return element("p", "None in the registry exports read.", { class: "empty" });
    const list = element("ul");
    for (const t of trials) {
      const item = element("li");
      item.append(link(t.id, t.link), document.createTextNode(`: ${t.title} (${t.phase}, ${t.status})`));
      list.append(item);
    }
    return list;
  }

  function riskCell(s) {
    const cell = element("td", data.risk_words[s.risk], { class: "risk", "data-risk": s.risk });
    if (s.risk_items) cell.append(element("div", s.risk_items, { class: "note" }));
    return cell;
  }

  function list(source, group) {
    selected = [source, group];
    const studies = filtered().filter((s) => s.source === source && s.group === group);
    details.replaceChildren();
    if (studies.length === 0) {
      selected = null;
      details.append(element("p", "Click a bubble to list its studies and registered trials.", { class: "hint" }));
      return;
    }
    const noun = studies.length === 1 ? "study" : "studies";
    details.append(element("h2", `${sourceLabel.get(source)} · ${group}: ${studies.length} ${noun}`));
    const table = element("table", null, { id: "study-list" });
    const head = element("tr");
    ["Study", "Condition as written", "Highest stage", "Risk of bias", "Species", "Record"].forEach((h) =>
      head.append(element("th", h))
    );
    const thead = element("thead");
    thead.append(head);
    table.append(thead);
    const body = element("tbody");
    for (const s of studies) {
      const row = element("tr", null, { "data-study": s.id });
      const cite = element("td");
      cite.append(link(s.label, s.link));
      cite.append(element("div", s.where || "no DOI or PMID recorded", { class: "note" }));
      row.append(
        cite,
        element("td", s.condition),
        element("td", stageLabel.get(s.stage)),
        riskCell(s),
        element("td", s.species.length ? s.species.join(", ") : "none"),
        element("td", s.file, { class: "note" })
      );
      body.append(row);
    }
    table.append(body);
    details.append(table);
    const key = data.group_keys[group];
    const trials = data.trials.filter((t) => t.groups.includes(key));
    const own = trials.filter((t) => t.source === source);
    const unnamed = trials.filter((t) => t.source === data.unspecified.code);
    details.append(element("h3", `Registered MSC-EV trials: ${sourceLabel.get(source)}, ${group}`));
    const ownList = trialList(own);
    ownList.setAttribute("id", "trials-source");
    details.append(ownList);
    details.append(element("h3", `Registered MSC-EV trials naming no tissue source: ${group}`));
    const unnamedList = trialList(unnamed);
    unnamedList.setAttribute("id", "trials-unspecified");
    details.append(unnamedList);
  }

  // The first drawing shows the cells computed by exosynth (data.cells); a filter recomputes.
  function draw(event) {
    showLegend();
    const studies = filtered();
    const cellList = event ? cells(studies) : data.cells;
    window.evidenceMap.cells = cellList;
    const n = cellList.length;
    shown.textContent =
      `Showing ${studies.length.toLocaleString("en")} of ${data.studies.length.toLocaleString("en")} studies ` +
      `in ${n.toLocaleString("en")} ${n === 1 ? "cell" : "cells"}.` +
      (n === 0 ? " No study matches the filters." : "");
    return Plotly.react(plot, traces(cellList), layout(cellList), config).then(() => {
      if (selected) list(selected[0], selected[1]);
    });
  }

  // For tests and the curious: the cells drawn, the rule that recomputes them, and the
  // promise of the latest drawing.
  window.evidenceMap = { cells: data.cells, recompute: () => cells(filtered()), ready: null };
  document.getElementById("filters").addEventListener("change", (event) => {
    window.evidenceMap.ready = draw(event);
  });
  window.evidenceMap.ready = draw().then(() => {
    plot.on("plotly_click", (event) => {
      const point = event.points[0];
      list(point.customdata[0], point.customdata[1]);
    });
    document.body.setAttribute("data-ready", "true");
  });
})();
