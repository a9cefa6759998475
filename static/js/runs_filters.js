// Which runs the table shows: by study (one, or "not in a study"), dataset, status, penalty and a
// part of the label, study runs folded under their study or not. The choice is kept in the address
// bar (runs_study=…, runs_dataset=…, runs_status=…, runs_penalty=…, runs_q=…, runs_fold=off), so a
// view can be shared and survives a reload; the server applies it (GET /api/runs, docs/api.md).

import { $ } from "./dom.js";
import { queryParams, replaceParams } from "./url_state.js";

const FIELDS = ["study", "dataset", "status", "penalty", "q"];
const PARAM = (name) => `runs_${name}`;
const OWNED = [...FIELDS.map(PARAM), PARAM("fold")];
const SEARCH_DELAY_MS = 300;

export class RunsFilters {
  // onChange(view) when the person changes the filters.
  constructor(form, { onChange }) {
    this.form = form;
    this.onChange = onChange;
    this.controls = Object.fromEntries(FIELDS.map((name) => [name, $(`#filter-${name}`, form)]));
    this.fold = $("#filter-fold", form);
    this.timer = null;
    this.view = this.read();
    this.show(this.view);
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("change", (event) => {
      if (event.target !== this.controls.q) this.changed();
    });
    this.controls.q.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.changed(), SEARCH_DELAY_MS);
    });
    $("#filter-clear", form).addEventListener("click", () => {
      this.show({ study: "", dataset: "", status: "", penalty: "", q: "", fold: true });
      this.changed();
    });
  }

  // The view the address bar holds.
  read() {
    const params = queryParams();
    const view = Object.fromEntries(FIELDS.map((name) => [name, (params.get(PARAM(name)) || "").trim()]));
    view.fold = params.get(PARAM("fold")) !== "off";
    return view;
  }

  show(view) {
    for (const name of FIELDS) {
      const control = this.controls[name];
      if (control.tagName === "SELECT" && view[name] && ![...control.options].some((o) => o.value === view[name])) {
        // A value the list does not offer (several statuses, a study not listed yet): offered as given.
        control.append(new Option(name === "study" ? `Study ${view[name]}` : view[name], view[name]));
      }
      control.value = view[name];
    }
    this.fold.checked = view.fold;
    this.syncFold();
  }

  // Folding applies to the runs of every study; one study's runs (or none) are shown unfolded.
  syncFold() {
    this.fold.disabled = this.controls.study.value !== "";
  }

  changed() {
    this.syncFold();
    const view = Object.fromEntries(FIELDS.map((name) => [name, this.controls[name].value.trim()]));
    view.fold = this.fold.checked;
    if (JSON.stringify(view) === JSON.stringify(this.view)) return;
    this.view = view;
    const values = new Map(FIELDS.map((name) => [PARAM(name), view[name]]));
    if (!view.fold) values.set(PARAM("fold"), "off");
    replaceParams(OWNED, values);
    this.onChange(view);
  }

  // The studies the study filter offers (GET /api/studies: newest first).
  setStudies(studies) {
    const select = this.controls.study;
    const chosen = select.value;
    for (const option of [...select.options]) if (option.value !== "" && option.value !== "none") option.remove();
    for (const study of studies) select.append(new Option(`Study ${study.id}: ${study.name}`, String(study.id)));
    if (chosen && ![...select.options].some((o) => o.value === chosen)) select.append(new Option(`Study ${chosen}`, chosen));
    select.value = chosen;
  }

  // Whether any filter narrows the list (the table's new runs then come from the server, not notices).
  narrowed() {
    return FIELDS.some((name) => this.view[name] !== "");
  }
}

// The API query of a view: the filters, folded unless it shows one study (or none), a page.
export function runsQuery(view, { limit, before = null, study = null } = {}) {
  const params = new URLSearchParams();
  params.set("limit", String(limit));
  if (before !== null) params.set("before", String(before));
  for (const name of FIELDS) {
    if (name === "study") continue;
    if (view[name]) params.set(name, view[name]);
  }
  const chosen = study !== null ? String(study) : view.study;
  if (chosen) params.set("study", chosen);
  else if (view.fold) params.set("fold", "studies");
  return params.toString();
}
