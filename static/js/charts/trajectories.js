// Weight trajectories: the 64 first-layer weights the engine samples (the start event's
// `trajectory_positions`, the same for every run of one seed), each as a path over the epochs,
// from `trajectory_initial` at epoch 0 to each epoch event's `trajectory`. Paths are coloured by
// where they are at the latest epoch: below the sparsity threshold (L1 drives many there and
// holds them) or not. They grow as epochs arrive in frames.
//
// data-points: path points drawn; data-paths: paths (64); data-below: paths whose latest value
// is below the threshold; data-epochs: the latest epoch held.

import { fmtPow10 } from "../format.js";
import { Chart, GRID, epochTicks, finiteOrNull, plotlyText } from "./base.js";

const NEAR_ZERO = "#e15759";
const AWAY = "#4e79a7";

export class TrajectoryChart extends Chart {
  // threshold: the schema's sparsity threshold; name: the run, for hovers (plain text).
  constructor(el, { threshold, name = "" }) {
    super(el, { pace: "epoch" });
    this.threshold = threshold;
    this.name = name;
    this.reset();
  }

  reset() {
    this.positions = null; // [[row, col]] × 64
    this.epochs = []; // 0, then each epoch with a trajectory
    this.rows = []; // the 64 values per entry of epochs
    this.updateCount();
    this.schedule();
  }

  // The start event: where the sampled weights sit and their initial values (epoch 0).
  start(event) {
    if (!event || !Array.isArray(event.trajectory_positions) || !Array.isArray(event.trajectory_initial)) return;
    this.positions = event.trajectory_positions;
    this.epochs = [0];
    this.rows = [event.trajectory_initial.map(finiteOrNull)];
    this.changed();
  }

  // Epoch columns (a frame's or /metrics' `epoch`): each epoch's trajectory, when it has one.
  append(columns) {
    if (!this.positions || !columns || !Array.isArray(columns.trajectory)) return;
    columns.trajectory.forEach((values, i) => {
      const epoch = Number(columns.epoch[i]);
      if (!Array.isArray(values) || epoch <= this.epochs[this.epochs.length - 1]) return;
      this.epochs.push(epoch);
      this.rows.push(values.map(finiteOrNull));
    });
    this.changed();
  }

  changed() {
    this.updateCount();
    this.schedule();
  }

  // {paths, below, epoch}: how many sampled weights sit below the threshold at the latest epoch.
  summary() {
    const last = this.rows[this.rows.length - 1];
    if (!last) return null;
    const below = last.filter((v) => v !== null && Math.abs(v) < this.threshold).length;
    return { paths: last.length, below, epoch: this.epochs[this.epochs.length - 1] };
  }

  pointCount() {
    return this.rows.reduce((n, row) => n + row.length, 0);
  }

  updateCount() {
    super.updateCount();
    const s = this.summary();
    Object.assign(this.el.dataset, {
      paths: String(s ? s.paths : 0), below: String(s ? s.below : 0), epochs: String(s ? s.epoch : 0),
    });
  }

  note() {
    return this.rows.length ? null : "Waiting for the run to start…";
  }

  ready() {
    return true;
  }

  // Two traces (below / not below the threshold at the latest epoch), each path in it separated
  // by a gap: 64 paths cost two traces.
  traces() {
    const s = this.summary();
    if (!s) return [];
    const last = this.rows[this.rows.length - 1];
    const groups = { below: { x: [], y: [], c: [] }, away: { x: [], y: [], c: [] } };
    last.forEach((v, k) => {
      const g = groups[v !== null && Math.abs(v) < this.threshold ? "below" : "away"];
      const [row, col] = this.positions[k] || ["?", "?"];
      this.epochs.forEach((epoch, i) => {
        g.x.push(epoch);
        g.y.push(this.rows[i][k]);
        g.c.push([row, col]);
      });
      g.x.push(null);
      g.y.push(null);
      g.c.push(null);
    });
    const t = fmtPow10(this.threshold);
    const name = plotlyText(this.name);
    const trace = (key, color, label, count) => ({
      type: "scatter", mode: "lines", uid: key, name: `${label} (${count} of ${s.paths})`,
      x: groups[key].x, y: groups[key].y, customdata: groups[key].c, connectgaps: false,
      line: { color, width: 1.5 }, opacity: 0.75,
      hovertemplate: `W1[%{customdata[0]}, %{customdata[1]}] at epoch %{x}: w = %{y:.3g}<extra>${name}</extra>`,
    });
    return [
      trace("away", AWAY, `|w| ≥ ${t} at epoch ${s.epoch}`, s.paths - s.below),
      trace("below", NEAR_ZERO, `|w| < ${t} at epoch ${s.epoch}`, s.below),
    ];
  }

  layout() {
    const s = this.summary();
    const layout = this.baseLayout();
    return {
      ...layout,
      legend: { ...layout.legend, title: { text: plotlyText(this.name), side: "top" } },
      margin: { l: 64, r: 16, t: 12, b: 48 },
      xaxis: { title: { text: "epoch (0: the initial weights)" }, gridcolor: GRID, zeroline: false, ...epochTicks(s ? s.epoch : 0) },
      yaxis: { title: { text: "weight value w (sampled W1 weights)" }, gridcolor: GRID, zeroline: true, zerolinecolor: "#52606d", zerolinewidth: 1.5 },
    };
  }
}
