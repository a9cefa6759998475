// A run's settings as a link to the launch form (/?penalty=l1&lam=1e-4&epochs=5, as TensorFlow
// Playground carries its state): every setting that differs from the server's default, written so
// it reads back exactly. Opening the link fills the form with the defaults and these.

import { exactText } from "./format.js";
import { settingSpecs } from "./schema.js";

const isDefault = (spec, value) => (spec.type === "choice" ? value === spec.default : Number(value) === Number(spec.default));

// The query parameters of `settings` (a run's settings, or the form's parsed values) that differ from the defaults.
export function settingsParams(settings) {
  const params = new Map();
  for (const spec of settingSpecs()) {
    const value = settings[spec.name];
    if (value === undefined || value === null || isDefault(spec, value)) continue;
    params.set(spec.name, spec.type === "choice" ? String(value) : exactText(value));
  }
  return params;
}

// The dashboard's address with `settings` in its form.
export function formLink(settings) {
  const query = new URLSearchParams([...settingsParams(settings)]).toString();
  return query ? `/?${query}` : "/";
}

// The settings a query names, as given: Map(name → text).
export function settingsInQuery(params) {
  const out = new Map();
  for (const spec of settingSpecs()) if (params.has(spec.name)) out.set(spec.name, params.get(spec.name));
  return out;
}

// The names of every setting (the query parameters the form owns).
export const settingNames = () => settingSpecs().map((spec) => spec.name);
