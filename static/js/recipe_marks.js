// The study page's part for a study a recipe made (GET /api/studies/<id>'s `recipe`): the verdict table
// (published beside ours, tolerance, verdict and why), a chart for each claim that has points (Ng's
// error against k, Han's pruning curves), and the published test accuracies marked on the accuracy
// trade-off chart (a diamond at the setting's λ, a dashed line for no penalty, which has no λ).
//
// Mounted by study_page.js with `mountRecipe(accuracyChart)`; `update(study)` on every refresh. The
// verdicts are the server's: nothing is judged here. The marks go in through the chart's own hooks
// (traces() and layout(), the chart base's extension points), so the trade-off chart knows nothing of
// recipes. The panel carries data-recipe and data-claims; the chart, data-marks.

import { PointsChart } from "./charts/recipe_points.js";
import { $, el, setText } from "./dom.js";
import { fmtG, fmtPct, num, penaltyLabel } from "./format.js";
import { plotlyText } from "./plotly_text.js";
import { penaltyInfo } from "./schema.js";

const MARK_COLOR = "#1f2933";

function markTraces(marks, range) {
  const x0 = 10 ** range[0];
  const x1 = 10 ** range[1];
  return marks.map((m, i) => {
    const name = plotlyText(`published: ${m.label} ${fmtPct(m.value, 2)}`);
    if (m.penalty === "none") {
      return { type: "scatter", mode: "lines", uid: `published-${i}`, name, x: [x0, x1], y: [m.value, m.value],
        line: { color: MARK_COLOR, width: 1.5, dash: "dot" }, hovertemplate: `${name}<extra></extra>` };
    }
    return { type: "scatter", mode: "markers", uid: `published-${i}`, name, x: [m.lam], y: [m.value],
      marker: { symbol: "diamond-open", size: 14, color: penaltyInfo(m.penalty).color, line: { width: 2.5 } },
      hovertemplate: `${name} (${plotlyText(penaltyLabel(m.penalty))} λ=${fmtG(m.lam, 3)})<extra></extra>` };
  });
}

// The accuracy chart draws the published values after its own traces, in its own x range.
function markChart(chart, marks) {
  const first = chart.recipeMarks === undefined;
  chart.recipeMarks = marks;
  if (!first) return;
  const traces = chart.traces.bind(chart);
  const layout = chart.layout.bind(chart);
  chart.traces = () => {
    chart.el.dataset.marks = String(chart.recipeMarks.length);
    return [...traces(), ...markTraces(chart.recipeMarks, layout().xaxis.range)];
  };
  chart.schedule();
}

function tolerance(claim) {
  return claim.tolerance === null || claim.tolerance === undefined ? "—" : `± ${fmtG(num(claim.tolerance) * 100, 3)} points`;
}

function panel(recipe) {
  const rows = el("tbody");
  const section = el("section", { class: "panel recipe-panel", id: "recipe-panel", "aria-labelledby": "recipe-heading",
    dataset: { recipe: recipe.name || "" } },
  el("div", { class: "panel-head" },
    el("h2", { id: "recipe-heading", text: `Recipe: ${recipe.title || recipe.name}` }),
    el("a", { href: `/recipes#recipe-${recipe.name}`, text: `${recipe.name}, version ${recipe.version}` })),
  el("p", { class: "section-note", id: "recipe-question", text: recipe.question || "" }),
  el("p", { class: "recipe-warning", id: "recipe-scaled", hidden: true }),
  el("p", { class: "hint", id: "recipe-arms", hidden: true }),
  el("div", { class: "table-wrap" },
    el("table", { class: "runs-table", id: "recipe-verdicts" },
      el("caption", { text: "Published values beside ours, and the verdicts" }),
      el("thead", {}, el("tr", {}, ...["Quantity", "Published", "Ours (mean ± sd over seeds)", "Tolerance", "Verdict"]
        .map((text) => el("th", { scope: "col", text })))),
      rows)),
  el("div", { class: "chart-grid recipe-charts", id: "recipe-charts" }),
  el("ul", { class: "recipe-notes", id: "recipe-notes" }));
  return { section, rows };
}

export function mountRecipe(accuracyChart) {
  let view = null;
  const charts = new Map(); // claim index → PointsChart

  function create(recipe) {
    view = panel(recipe);
    const summary = $(".study-summary");
    summary.after(view.section);
  }

  function renderClaims(claims) {
    view.rows.replaceChildren(...claims.map((c) => el("tr", { dataset: { verdict: c.verdict } },
      el("td", {}, el("span", { text: c.quantity }), c.note ? el("span", { class: "claim-note", text: c.note }) : null),
      el("td", { text: c.published_text }),
      el("td", { text: c.ours_text }),
      el("td", { class: "num", text: tolerance(c) }),
      el("td", {}, el("span", { class: `verdict verdict-${c.verdict.replace(/ /g, "-")}`, text: c.verdict })))));
    view.section.dataset.claims = String(claims.length);
    claims.forEach((c, i) => {
      if (!c.points || !c.points.length || !c.axes) return;
      if (!charts.has(i)) {
        const box = el("div", { class: "chart chart-small", id: `recipe-chart-${i}`, "data-points": "0" });
        $("#recipe-charts").append(el("figure", { class: "chart-card" },
          el("figcaption", {}, el("span", { class: "chart-title", text: c.quantity })), box));
        charts.set(i, new PointsChart(box));
      }
      charts.get(i).set(c);
    });
  }

  function update(study) {
    const recipe = study.recipe;
    if (!recipe) return;
    if (!view) create(recipe);
    if (recipe.error) {
      setText($("#recipe-question"), recipe.error);
      return;
    }
    const scaled = $("#recipe-scaled");
    scaled.hidden = !recipe.scale;
    if (recipe.scale) {
      const sizes = Object.entries(recipe.scale).map(([k, v]) => `${k.replace(/_/g, " ")} ${v}`).join(", ");
      setText(scaled, `Scaled (${sizes}): these verdicts say nothing about the published figures.`);
    }
    const arms = $("#recipe-arms");
    arms.hidden = recipe.arms.length < 2;
    setText(arms, `The charts and the table per setting below show the arm “${recipe.primary_arm}”; the verdicts ` +
      `cover all ${recipe.arms.length} arms (${recipe.arms.join("; ")}).`);
    renderClaims(recipe.claims);
    const notes = $("#recipe-notes");
    if (notes.children.length !== recipe.notes.length) notes.replaceChildren(...recipe.notes.map((n) => el("li", { text: n })));
    markChart(accuracyChart, recipe.marks || []);
  }

  return { update };
}
