"""GET /api/schema: penalties, limits and the sparsity threshold; every page embeds the very same JSON."""
import json
import re

import pytest

from .conftest import TINY

EMBEDDED = re.compile(r'<script type="application/json" id="normlab-schema">(.*?)</script>', re.S)


def test_schema_names_the_penalties_the_limits_and_the_threshold(make_app):
    client = make_app(QUEUE_LIMIT=7, STUDY_QUEUE_LIMIT=40).test_client()
    schema = client.get("/api/schema").get_json()
    assert schema["penalties"] == [
        {"name": "none", "label": "none", "color": "#616e7c"}, {"name": "l1", "label": "L1", "color": "#e15759"},
        {"name": "l2", "label": "L2", "color": "#4e79a7"},
        {"name": "elastic", "label": "elastic net", "color": "#59a14f"}]
    choices = next(s for s in schema["settings"] if s["name"] == "penalty")["choices"]
    assert [p["name"] for p in schema["penalties"]] == choices
    assert schema["limits"] == {"label_max": 100, "study_max_runs": 300, "seeds_max": 10, "lams_max": 20, "lam_min": 0,
                                "lam_max": 10, "compare_max": 12, "runs_page_max": 500, "queue_limit": 7,
                                "study_queue_limit": 40}
    assert schema["sparsity_threshold"] == 1e-3
    status = client.get("/api/status").get_json()
    assert (status["queue_limit"], status["study_queue_limit"]) == (7, 40)


def study(client, **body):
    return client.post("/api/studies", json={"penalties": ["l1"], "lams": [0.01], "settings": TINY, **body})


def test_each_limit_is_the_one_the_server_enforces(client):
    limits = client.get("/api/schema").get_json()["limits"]
    n = limits["label_max"]
    too_long = client.post("/api/runs", json={**TINY, "label": "x" * (n + 1)})
    assert too_long.status_code == 400 and too_long.get_json()["field"] == "label"
    assert client.post("/api/runs", json={**TINY, "label": "x" * n}).status_code == 201
    assert study(client, name="y" * (n + 1)).get_json()["field"] == "name"
    for field, value in (("lam", limits["lam_max"] * 1.01), ("lam", limits["lam_min"] - 1e-9)):
        refused = client.post("/api/runs", json={**TINY, "penalty": "l1", field: value})
        assert refused.status_code == 400 and refused.get_json()["field"] == field
    assert client.post("/api/runs", json={**TINY, "penalty": "l1", "lam": limits["lam_max"]}).status_code == 201
    assert study(client, seeds=limits["seeds_max"] + 1).get_json()["field"] == "seeds"
    lams = [0.001 * (i + 1) for i in range(limits["lams_max"] + 1)]
    assert study(client, lams=lams).get_json()["field"] == "lams"
    # every penalty at the most λ and seeds allowed: past the runs a study may have
    too_big = study(client, penalties=["l1", "l2"], lams=lams[:-1], seeds=limits["seeds_max"])
    assert too_big.status_code == 400 and f"at most {limits['study_max_runs']}" in too_big.get_json()["error"]
    ids = [str(1000 + i) for i in range(limits["compare_max"] + 1)]  # no such runs: the page names those it looked for
    page = client.get(f"/compare?runs={','.join(ids)}").get_data(as_text=True)
    assert ids[-2] in page and ids[-1] not in page


@pytest.mark.parametrize("path", ["/", "/studies", "/runs/1", "/studies/1", "/compare?runs=1"])
def test_every_page_embeds_the_schema_the_api_answers(client, path):
    client.post("/api/studies", json={"penalties": ["none"], "settings": TINY})  # run 1 in study 1
    api = client.get("/api/schema").get_data(as_text=True)
    page = client.get(path)
    assert page.status_code == 200
    embedded = EMBEDDED.findall(page.get_data(as_text=True))
    assert embedded == [api]  # once, byte for byte
    assert json.loads(embedded[0])["limits"]["label_max"] == 100
    assert "<" not in api and ">" not in api and "&" not in api  # safe inside <script>
