// The recipes page (/recipes): each recipe's Run button queues its study (POST /api/recipes/<name>/run)
// and opens the study's page. The page itself is the server's list (templates/recipes.html); the
// seeds are checked here first, then by the server, whose 400 names the field the message goes to.

import { api, ApiError } from "./api.js";
import { $, $$, readJson, setText } from "./dom.js";
import { parseControl, showFieldError } from "./form.js";
import { limits } from "./schema.js";

const trySmall = readJson("try-small-data");

async function run(form) {
  const status = $(".form-status", form);
  const button = $("button[type=submit]", form);
  const seedsInput = $("input[name=seeds]", form);
  clearError(seedsInput);
  const seeds = parseControl(seedsInput, { type: "int", min: 1, max: limits().seeds_max });
  if (seeds.error) {
    showFieldError(seedsInput, seeds.error);
    seedsInput.focus();
    return;
  }
  const body = { seeds: seeds.value, ...($("#try-small").checked ? { scale: trySmall } : {}) };
  button.disabled = true;
  setText(status, "Queuing the study…");
  try {
    const study = await api.runRecipe(form.dataset.recipe, body);
    setText(status, `Study ${study.id} queued: opening it…`);
    location.assign(`/studies/${study.id}`);
  } catch (err) {
    if (err instanceof ApiError && err.field === "seeds") showFieldError(seedsInput, err.message);
    setText(status, `Could not run it: ${err.message}`);
    button.disabled = false;
  }
}

function clearError(control) {
  control.removeAttribute("aria-invalid");
  const wrap = control.closest(".field");
  wrap.classList.remove("invalid");
  setText(wrap.querySelector(".field-error"), "");
}

for (const form of $$("form.recipe-run")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form);
  });
}
