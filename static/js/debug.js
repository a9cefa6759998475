// Counters for the browser tests and the benchmarks, off unless the page was opened with
// ?debug=stats. Then `window.normlabStats` holds:
//   frames, lastFrameAt   frame messages received, and Date.now() of the last one
//   frameLog              recent [Date.now(), run, first_seq, last_seq], one per subscribed run of a frame
//   points                batch points handed on to the page
//   draws, drawMs, lastDrawAt   chart draws, the last one's duration (ms) and when it ended
//   drawLog               recent [Date.now(), {run: batch points drawn}], one per loss-per-batch draw
// and each chart container gets data-draw-ms (its last draw's duration) and, for the loss per
// batch, data-lines-only-draws (draws that moved only its lines). On any other page every call
// here does nothing and nothing is written.

const ENABLED = new URLSearchParams(location.search).getAll("debug")
  .some((value) => value.split(",").includes("stats"));
const LOG_LENGTH = 2000;

function pushBounded(list, item) {
  list.push(item);
  if (list.length > LOG_LENGTH) list.splice(0, list.length - LOG_LENGTH);
}

function counting(stats) {
  return {
    frame() {
      stats.frames += 1;
      stats.lastFrameAt = Date.now();
    },
    frameEntry(entry) {
      pushBounded(stats.frameLog, [stats.lastFrameAt, entry.run, entry.first_seq, entry.last_seq]);
    },
    points(n) {
      stats.points += n;
    },
    draw(el, ms) {
      stats.draws += 1;
      stats.drawMs = Math.round(ms * 10) / 10;
      stats.lastDrawAt = Date.now();
      el.dataset.drawMs = String(stats.drawMs);
    },
    // drawn(): {run id: points drawn}, asked for only here.
    batchDrawn(drawn) {
      pushBounded(stats.drawLog, [Date.now(), drawn()]);
    },
    linesOnlyDraw(el) {
      el.dataset.linesOnlyDraws = String(Number(el.dataset.linesOnlyDraws || 0) + 1);
    },
  };
}

const nothing = () => {};
const idle = { frame: nothing, frameEntry: nothing, points: nothing, draw: nothing,
  batchDrawn: nothing, linesOnlyDraw: nothing };

export const debugStats = ENABLED
  ? counting(window.normlabStats = {
    frames: 0, lastFrameAt: null, frameLog: [], points: 0, draws: 0, drawMs: 0, lastDrawAt: null, drawLog: [],
  })
  : idle;
