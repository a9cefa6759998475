// A run as the server describes it (GET /api/runs/<id>, `run` messages: id, status, live,
// progress, result, …), carried forward by its frames between two descriptions. Pages show this
// object; they never work out a run's progress or result themselves.

// The keys of the server's result while a run is live: its latest epoch's values.
const LIVE_RESULT = ["test_accuracy", "test_loss", "train_accuracy", "train_loss", "data_loss", "penalty", "sparsity"];

// The run after a frame entry (or a /metrics answer): the progress the server sent with it, and
// while the run is live, its latest epoch's values as the result (as the server's view has them).
export function advance(run, entry) {
  let next = run;
  if (entry.progress) next = { ...next, progress: entry.progress };
  const e = entry.epoch;
  if (run.live && e && e.epoch && e.epoch.length) {
    const i = e.epoch.length - 1;
    const result = {};
    for (const key of LIVE_RESULT) if (e[key]) result[key] = e[key][i];
    next = { ...next, result };
  }
  return next;
}
