// Plotly.js itself: waiting for it, choosing WebGL or SVG, and the settings every figure shares.

export const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
export const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1f2933" };
export const GRID = "#e4e7eb";
export const MUTED = "#7b8794";

// Plotly.js arrives as a deferred classic script (base.html) and sets window.Plotly; page modules may
// run before it (an async module starts its requests while Plotly is still loading). One promise
// for the whole page, settled by the script's load event (polling only as a fallback).
let plotlyPromise = null;
export function whenPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyPromise) {
    plotlyPromise = new Promise((resolve, reject) => {
      const started = performance.now();
      let timer = null;
      const check = () => {
        if (!window.Plotly) return false;
        clearTimeout(timer);
        resolve(window.Plotly);
        return true;
      };
      const script = document.querySelector('script[src$="/plotly.min.js"]');
      if (script) script.addEventListener("load", check);
      const poll = () => {
        if (check()) return;
        if (performance.now() - started > 20000) reject(new Error("Plotly.js did not load"));
        else timer = setTimeout(poll, 100);
      };
      poll();
    });
    plotlyPromise.catch(() => {
      plotlyPromise = null; // a later draw may try again
    });
  }
  return plotlyPromise;
}

// "gl" when WebGL works and the page may compile code at run time (Plotly's WebGL layer,
// regl, generates its shader glue with Function(); a CSP without 'unsafe-eval' forbids that),
// else "svg". ?renderer=svg|gl in the page URL forces one (tests, debugging).
export function pickRenderer() {
  const forced = new URLSearchParams(location.search).get("renderer");
  if (forced === "svg" || forced === "gl") return forced;
  try {
    // eslint-disable-next-line no-new-func
    new Function("return 1");
  } catch {
    return "svg";
  }
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl") || canvas.getContext("experimental-webgl");
    if (!gl) return "svg";
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext(); // give the probe's context back at once
    return "gl";
  } catch {
    return "svg";
  }
}
