-- normlab's SQLite schema. Its version is kept in PRAGMA user_version (see app/database.py SCHEMA_VERSION).
CREATE TABLE IF NOT EXISTS studies (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    name    TEXT NOT NULL,
    spec    TEXT NOT NULL                  -- penalties, λ values, seeds and shared settings (JSON)
);

CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created     REAL NOT NULL,
    started     REAL,
    finished    REAL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
    reason      TEXT,
    label       TEXT NOT NULL,
    grp         TEXT,                      -- comparison the run belongs to
    study_id    INTEGER REFERENCES studies (id) ON DELETE CASCADE,
    settings    TEXT NOT NULL,             -- RunConfig as JSON
    start_event TEXT,                      -- the engine's start event as JSON
    final_event TEXT,                      -- the engine's final event as JSON (images kept in artifacts)
    result      TEXT,                      -- latest metrics as JSON (final once finished)
    progress    TEXT,                      -- the last batch or epoch event's {"kind", "step", "epoch"} as JSON
    last_seq    INTEGER NOT NULL DEFAULT -1,
    -- Version 2: worked out by SQLite from the JSON above (nothing is stored twice; the indexes keep
    -- them), for the runs list's filters and its ★. `comparable` is every setting but the penalty,
    -- its λ, the seed and the pruning fine-tune steps (app/comparable.py): runs with equal ones differ only in what a study varies.
    -- app/migrations.py (version 2) adds the same columns to a version 1 database.
    dataset     TEXT GENERATED ALWAYS AS (json_extract(settings, '$.dataset')) VIRTUAL,
    penalty     TEXT GENERATED ALWAYS AS (json_extract(settings, '$.penalty')) VIRTUAL,
    comparable  TEXT GENERATED ALWAYS AS (json_remove(settings, '$.penalty', '$.lam', '$.lam_l2', '$.seed', '$.prune_fine_tune_steps')) VIRTUAL,
    accuracy    REAL GENERATED ALWAYS AS (json_extract(result, '$.test_accuracy')) VIRTUAL
);

-- Every per-batch point; NaN losses are stored as NULL.
CREATE TABLE IF NOT EXISTS batches (
    run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    epoch     INTEGER NOT NULL,
    batch     INTEGER NOT NULL,
    loss      REAL,
    data_loss REAL,
    penalty   REAL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS epochs (
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    epoch          INTEGER NOT NULL,
    step           INTEGER NOT NULL,
    train_loss     REAL,
    data_loss      REAL,
    penalty        REAL,
    train_accuracy REAL,
    test_loss      REAL,
    test_accuracy  REAL,
    sparsity       REAL,
    seconds        REAL,
    train_seconds  REAL,
    weights        TEXT NOT NULL,          -- per weight matrix: norms, sparsity, histogram (JSON)
    trajectory     TEXT,                   -- W1 at the start event's trajectory_positions (JSON; NULL before version 3)
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Large per-run results: first-layer weights as float32 images, and what the weights show
-- (app.insight: input importance, unit norms, pruning curves, prior fits), kept out of the runs rows.
CREATE TABLE IF NOT EXISTS artifacts (
    run_id      INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    first_layer BLOB,
    shape       TEXT,
    insight     TEXT                       -- JSON; NULL for runs stored before version 3
);

-- Each filter of the runs list is an index lookup; an index also holds the row id, so each one
-- gives its runs newest first without sorting. The label search (a substring) reads every label.
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE INDEX IF NOT EXISTS runs_by_study ON runs (study_id);
CREATE INDEX IF NOT EXISTS runs_by_dataset ON runs (dataset);
CREATE INDEX IF NOT EXISTS runs_by_penalty ON runs (penalty);
-- The ★: the best test accuracy per penalty among comparable completed runs, one index seek per group.
CREATE INDEX IF NOT EXISTS runs_best ON runs (comparable, penalty, accuracy) WHERE status = 'completed';
-- A study's best completed run, for its folded row in the runs list: one index seek per study.
CREATE INDEX IF NOT EXISTS runs_best_of_study ON runs (study_id, accuracy) WHERE status = 'completed';
