// A run as the server describes it (GET /api/runs/<id>, `run` messages: id, status, live,
// progress, result, …), carried forward by its frames between two descriptions. Pages show this
// object; they never work out a run's progress or result themselves.

// The keys of the server's result while a run is live: its latest epoch's values.
const LIVE_RESULT = ["test_accuracy", "test_loss", "train_accuracy", "train_loss", "data_loss", "penalty", "sparsity"];

// The run after a frame entry (or a /metrics answer): the progress the server sent with it, and
// while the run is live, the result as the server's view has it then: the latest epoch's values
// and the training time so far.
export function advance(run, entry) {
  const progress = entry.progress || run.progress;
  if (!run.live) return { ...run, progress };
  let result = run.result;
  const e = entry.epoch;
  if (e && e.epoch && e.epoch.length) {
    const i = e.epoch.length - 1;
    result = {};
    for (const key of LIVE_RESULT) if (e[key]) result[key] = e[key][i];
  }
  if (result && progress) result = { ...result, seconds: progress.elapsed_seconds };
  return { ...run, progress, result };
}
