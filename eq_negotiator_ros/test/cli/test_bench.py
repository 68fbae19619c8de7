"""`eq-negotiator bench` on a tiny run: the JSON schema, the files, the errors."""

import json

import pytest

from eq_negotiator_ros.cli import main

METRIC_KEYS = {
    "policy",
    "persona",
    "episodes",
    "success_rate",
    "avg_collection_days",
    "avg_utterances",
    "debt_multiple",
    "recovery_rate",
    "ci95",
}


def test_json_schema_and_files(tmp_path, capsys):
    out = tmp_path / "bench"
    code = main(
        [
            "bench",
            "--policies",
            "eq,vanilla",
            "--personas",
            "cheating,victim",
            "--episodes",
            "3",
            "--seed",
            "2",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) >= {"results", "negotiations_per_minute", "config"}
    assert document["negotiations_per_minute"] > 0
    assert document["config"]["seed"] == 2 and document["config"]["episodes"] == 3
    results = document["results"]
    assert [(r["policy"], r["persona"]) for r in results] == [
        ("eq", "cheating"),
        ("eq", "victim"),
        ("vanilla", "cheating"),
        ("vanilla", "victim"),
    ]
    for row in results:
        assert METRIC_KEYS <= set(row)
        assert row["episodes"] == 3 and 0.0 <= row["success_rate"] <= 1.0
        assert set(row["ci95"]) >= {"success_rate", "debt_multiple"}
        low, high = row["ci95"]["success_rate"]
        assert low <= row["success_rate"] <= high
    for name in ("report.md", "success_rate.png", "debt_multiple.png", "metrics.json", "episodes.jsonl"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert len((out / "episodes.jsonl").read_text().splitlines()) == 12
    assert "| eq | cheating | 3 |" in (out / "report.md").read_text()


def test_same_seed_same_json(tmp_path, capsys):
    documents = []
    for run in range(2):
        assert (
            main(
                [
                    "bench",
                    "--policies",
                    "wsls",
                    "--personas",
                    "angry",
                    "--episodes",
                    "3",
                    "--out",
                    str(tmp_path / str(run)),
                    "--json",
                ]
            )
            == 0
        )
        documents.append(json.loads(capsys.readouterr().out)["results"])
    assert documents[0] == documents[1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--personas", "grumpy"], "unknown persona grumpy"),
        (["--policies", "eq,bogus"], "unknown policy bogus"),
        (["--episodes", "0"], "--episodes"),
        (["--scenarios", "/nonexistent.csv"], "not found"),
        (["--debtor-config", "/nonexistent.yaml"], "not found"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys, argv, message):
    assert main(["bench", "--out", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_debtor_config_changes_the_results(tmp_path, capsys):
    import yaml

    from eq_negotiator_ros.sim.debtor import default_personas_path

    document = yaml.safe_load(default_personas_path().read_text())
    document["personas"]["vanilla"]["reservation_position"] = [0.0, 0.0]  # accepts the creditor's target
    path = tmp_path / "easy.yaml"
    path.write_text(yaml.safe_dump(document))
    args = ["bench", "--policies", "vanilla", "--personas", "vanilla", "--episodes", "4", "--json"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    shipped = json.loads(capsys.readouterr().out)["results"][0]
    assert main([*args, "--out", str(tmp_path / "b"), "--debtor-config", str(path)]) == 0
    easy = json.loads(capsys.readouterr().out)["results"][0]
    assert easy["success_rate"] == 1.0
    assert easy["debt_multiple"] < shipped["debt_multiple"] or shipped["success_rate"] < 1.0


def test_population_mode_writes_per_persona_and_overall_tables_and_learning_curves(tmp_path, capsys):
    out = tmp_path / "population"
    code = main(
        [
            "bench",
            "--population",
            "cheating=1,victim=2",
            "--negotiations",
            "8",
            "--policies",
            "eq,fixed-fear,vanilla",
            "--seed",
            "3",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["config"]["population"] == {"cheating": 1.0, "victim": 2.0}
    assert document["negotiations"] == 24
    assert {r["persona"] for r in document["results"]} <= {"cheating", "victim"}
    assert [(r["policy"], r["persona"]) for r in document["overall"]] == [
        ("eq", "all"),
        ("fixed-fear", "all"),
        ("vanilla", "all"),
    ]
    assert all(r["episodes"] == 8 for r in document["overall"])
    assert all(0.0 <= r["utility"] <= 1.0 for r in document["overall"])
    assert document["targets"]["best_single_fixed"] in ("fixed-fear",)
    for name in ("learning_curve.png", "learning_curve_utility.png", "report.md"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "## Overall" in report and "## Targets (eq)" in report and "utility" in report


def test_fixed_concession_and_reciprocity_are_recorded_and_change_the_run(tmp_path, capsys):
    args = [
        "bench",
        "--policies",
        "fixed-fear",
        "--personas",
        "sad",
        "--episodes",
        "6",
        "--seed",
        "4",
        "--json",
    ]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*args, "--out", str(tmp_path / "b"), "--fixed-concession", "--reciprocity", "0.3"]) == 0
    changed = json.loads(capsys.readouterr().out)
    assert plain["config"]["fixed_concession"] is False and changed["config"]["fixed_concession"] is True
    assert changed["config"]["reciprocity"] == 0.3
    assert plain["results"] != changed["results"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--population", "angry=x"], "must be a number"),
        (["--population", "grumpy=1"], "unknown persona"),
        (["--population", "angry=0"], "must not all be 0"),
        (["--population", "--negotiations", "0"], "--negotiations"),
        (["--reciprocity", "2"], "--reciprocity"),
    ],
)
def test_bad_population_arguments_exit_2(tmp_path, capsys, argv, message):
    assert main(["bench", "--out", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
