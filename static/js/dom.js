// The DOM helpers every page uses: finding nodes, making them, writing text, reading the JSON a
// template embeds.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Write text only when it changes (no needless DOM mutations or screen-reader repeats).
export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

// A new element: attributes (class, text, dataset and plain ones; null, undefined and false are
// left out) and children (nodes or strings, which become text, never markup).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

// The data a template put in <script type="application/json" id="…"> (text, never run).
export function readJson(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`normlab: the page has no #${id}`);
  return JSON.parse(node.textContent);
}
