-- normlab's schema version 1, as released: the migration test opens a database made with it.
-- normlab's SQLite schema. Its version is kept in PRAGMA user_version (see store.SCHEMA_VERSION).
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
    last_seq    INTEGER NOT NULL DEFAULT -1
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
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Large per-run results: first-layer weights as float32 images.
CREATE TABLE IF NOT EXISTS artifacts (
    run_id      INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    first_layer BLOB,
    shape       TEXT
);

CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE INDEX IF NOT EXISTS runs_by_study ON runs (study_id);
