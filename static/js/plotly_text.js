// Text a person typed (a run's label, a study's name), made safe to hand to Plotly.
//
// Plotly reads a subset of HTML in every string it draws — trace names, hover texts, titles,
// annotations, tick labels: <a href> becomes a live link, <b>, <i> and <span style> are drawn — and
// %{...} in hover and text templates (and in trace names, when a trace has `meta`) is replaced by
// data. Every such string goes through plotlyText: & < > become entities, which Plotly draws as
// the characters, and % { } too, so no template is read in them. The text shows exactly as typed.

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;", "{": "&#123;", "}": "&#125;" };

export function plotlyText(text) {
  return String(text ?? "").replace(/[&<>%{}]/g, (c) => ENTITIES[c]);
}

// A run as charts name it in legends and hovers: "#12 L2 λ=0.01".
export function runName(id, label) {
  return `#${plotlyText(id)} ${plotlyText(label)}`;
}
