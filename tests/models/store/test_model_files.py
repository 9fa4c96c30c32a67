"""Model files are data, never code (issue 16, item 2, and issue 10's model-file rows).

The fitted model travels as a JSON document of its fitted parameters, hashed with its
run. Each attack of the issue is reproduced as an attacker would write it (tests/
hostile_models.py): a file calling ``sklearn.utils._testing.
assert_run_python_script_without_output``, ``numpy.testing._private.utils.runstring``,
``numpy.savetxt`` or ``scipy.io.savemat`` must be refused with a clear message and run
nothing (a marker file stays absent) in ``load_pipeline``, in the served model and in
``predict.py`` even after the run's recorded hash was updated to match it; ``--model``
refuses a folder whose ``pyfunc_model.py`` MLflow would run; a planted model-details
cache does not reach the web page. Every hostile load runs in a subprocess under
``resource`` limits.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import mlflow
import pytest

from data.synthetic import generate_corpus
from models.store.loading import MODEL_FILES_TAG, PIPELINE_TAG
from models.store.persistence import UntrustedModelError, load_pipeline, save_pipeline
from models.training import train
from tests.helpers.hostile_models import (
    REPO,
    functions,
    hostile_documents,
    python_limited,
    run_limited,
    skops_archive,
    skops_type_list,
)

SUMMARY = (
    "The injured worker is a 45 year old female with low back pain after an industrial "
    "injury. Treatment to date has included medications."
)
LABELS = list(functions(Path("x")))


@pytest.fixture(scope="module")
def store(trained_store_copy):
    """A copy of the champion's store (``trained_store_copy`` in conftest) for this module,
    which tampers with it: it plants and damages cache files, changes artifacts and forges
    run and registry tags. This process uses the copy while the module runs."""
    copy = trained_store_copy("model-files-store")
    with copy.active():
        yield copy.root, copy.env, copy.result


def _artifacts(result) -> Path:
    run = mlflow.MlflowClient().get_run(result.run_id)
    return Path(run.info.artifact_uri.removeprefix("file://"))


@pytest.fixture(scope="module")
def genuine(store) -> dict:
    """The champion's model document as training wrote it."""
    _, _, result = store
    return json.loads((_artifacts(result) / "pipeline.json").read_text())


def test_the_copy_tampered_with_here_is_apart_from_the_shared_store(store, trained_store):
    """Every path the copy's store names is inside the copy, and what is written to the
    copy (an artifact, a tag) never reaches the store the other tests share."""
    root, _, result = store
    copy = mlflow.MlflowClient()
    shared = mlflow.MlflowClient(tracking_uri=trained_store.env["MLFLOW_TRACKING_URI"])
    source = copy.get_model_version("imr-outcome", result.version).source  # models:/m-...
    logged = copy.get_logged_model(source.removeprefix("models:/")).artifact_location
    for path in (_artifacts(result), Path(logged.removeprefix("file://"))):
        assert path.is_relative_to(root) and path.is_dir(), path
    original = Path(shared.get_run(result.run_id).info.artifact_uri.removeprefix("file://"))
    assert original.is_relative_to(trained_store.root)
    (_artifacts(result) / "planted.txt").write_text("copy only")
    copy.set_registered_model_tag("imr-outcome", "copy-only", "yes")
    try:
        assert not (original / "planted.txt").exists()
        assert "copy-only" not in shared.get_registered_model("imr-outcome").tags
    finally:
        (_artifacts(result) / "planted.txt").unlink()
        copy.delete_registered_model_tag("imr-outcome", "copy-only")


def _draft(tmp_path, env, *extra):
    summary = tmp_path / "summary.txt"
    summary.write_text(SUMMARY)
    args = ["--summary", str(summary), "--service", "MRI of the lumbar spine", "--json", *extra]
    return run_limited([str(REPO / "predict.py"), *args], env, cwd=tmp_path)


def _p(run) -> float:
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["items"][0]["p_overturned"]


@pytest.fixture(scope="module")
def reference_p(store, tmp_path_factory) -> float:
    """P(Overturned) of the test draft from an intact cache (this run also fills the cache)."""
    _, env, _ = store
    return _p(_draft(tmp_path_factory.mktemp("reference"), env))


def _cache_folder(root: Path) -> Path:
    (folder,) = (root / "cache").glob("*/imr-outcome-v*")
    return folder


# --- the format ------------------------------------------------------------------------------


def test_training_records_the_documents_hash_and_the_document_holds_only_data(store, genuine):
    _, _, result = store
    run = mlflow.MlflowClient().get_run(result.run_id)
    files = json.loads(run.data.tags[MODEL_FILES_TAG])
    assert run.data.tags[PIPELINE_TAG] == "pipeline.json" and set(files) == {"pipeline.json"}
    data = (_artifacts(result) / "pipeline.json").read_bytes()
    assert files["pipeline.json"] == hashlib.sha256(data).hexdigest()
    assert [s["class"] for s in genuine["steps"]] == [
        "GuidelineFeatures",
        "StandardScaler",
        "MonotoneLogisticRegression",
    ]
    names = genuine["steps"][0]["fitted"]["feature_names"]
    assert len(names) == len(genuine["steps"][2]["fitted"]["coef_"][0]) > 5
    assert "__" not in data.decode()  # no __class__/__module__/__reduce__: nothing to call


@pytest.fixture(scope="module")
def real_items(tmp_path_factory, dwc_dir, seeds_dir):
    from data.ingest import ingest
    from data.ingest.dataset import load_items

    out = tmp_path_factory.mktemp("dataset")
    ingest([dwc_dir, seeds_dir], out)
    return load_items(out)


@pytest.mark.parametrize("core_only", [False, True])
def test_the_document_round_trips_exactly_on_the_real_letters(real_items, tmp_path, core_only):
    """Identical probabilities, bands, contributions, reasons and what-ifs on every real
    item; with all the features or five of them (the names are data, not format code)."""
    from models.evaluation import case_groups, labels
    from models.recipe import build_model, fit_model
    from models.scoring.prediction import contributions, explain_items, pre_filing_frame, score

    model = fit_model(
        build_model(core_only=core_only), real_items, labels(real_items), case_groups(real_items)
    )
    restored = load_pipeline(save_pipeline(model, tmp_path / "pipeline.json"))
    drafts = pre_filing_frame(real_items.to_dict("records"))
    drafts["letter_services"] = real_items.groupby("letter_id")["service"].transform(
        lambda s: [list(s)] * len(s)
    )
    assert score(model, drafts).equals(score(restored, drafts))
    assert contributions(model, drafts).equals(contributions(restored, drafts))
    before = [e.as_dict() for e in explain_items(model, drafts.head(60))]
    after = [e.as_dict() for e in explain_items(restored, drafts.head(60))]
    assert before == after
    assert list(restored[:-1].get_feature_names_out()) == list(model[:-1].get_feature_names_out())
    from features.criteria import FEATURES
    from models.recipe import CORE_FEATURES

    expected = CORE_FEATURES if core_only else FEATURES
    assert list(restored[:-1].get_feature_names_out()) == list(expected)


def test_saving_refuses_a_step_the_format_does_not_hold(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(UntrustedModelError, match="FunctionTransformer is not a class"):
        save_pipeline(make_pipeline(FunctionTransformer(print)), tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


# --- load_pipeline: every function-calling file is refused, nothing runs ----------------------


@pytest.mark.parametrize("label", LABELS)
def test_each_payload_runs_code_when_a_loader_calls_it_by_name(tmp_path, label):
    """The control: the payloads below are live (a loader that resolves names from a file
    and calls them, as skops did, creates the marker)."""
    marker = tmp_path / "pwned"
    call = functions(marker)[label]
    code = "from tests.helpers.hostile_models import call_by_name; "
    code += f"call_by_name(*{call!r}); print(1)"
    python_limited(code)
    assert marker.exists()


def _expected_refusal(label: str) -> str:
    for prefix, reason in [
        ("class ", "unknown class"),
        ("skops schema ", "lacks format, steps, version"),
        ("call in a parameter ", "must be null, a boolean"),
        ("call in a fitted field ", "must be a list"),
        ("extra fitted field ", "unknown key(s) 'func'"),
        ("FunctionTransformer step", "unknown class 'FunctionTransformer'"),
        ("skops archive", "zip archive (the skops format"),
    ]:
        if label.startswith(prefix):
            return reason
    raise AssertionError(label)


def test_load_pipeline_refuses_every_function_calling_file_and_runs_nothing(genuine, tmp_path):
    marker = tmp_path / "pwned"
    files = dict(hostile_documents(marker, genuine))
    for label, call in functions(marker).items():
        files[f"skops archive {label}"] = skops_archive(*call)
    paths = {}
    for i, (label, data) in enumerate(files.items()):
        paths[label] = tmp_path / f"{i}.json"
        paths[label].write_bytes(data)
    run = run_limited(["-m", "tests.helpers.hostile_models", "load", *map(str, paths.values())])
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = {r["path"]: r["refused"] for r in map(json.loads, run.stdout.splitlines())}
    assert len(outcome) == len(files) > 20
    for label, path in paths.items():
        message = outcome[str(path)]
        assert message, f"{label} was loaded"
        assert message.startswith(f"{path}: ") and "retrain with train.py" in message
        assert _expected_refusal(label) in message, (label, message)
        assert "\n" not in message and len(message) < 1000
    assert not marker.exists()


def _mutations(genuine: dict) -> dict[str, tuple[bytes, str]]:
    """Tampered copies of a genuine document: {label: (bytes, expected refusal)}."""

    def edit(change) -> bytes:
        doc = json.loads(json.dumps(genuine))
        change(doc)
        return json.dumps(doc).encode()

    text = json.dumps(genuine)
    first = repr(genuine["steps"][2]["fitted"]["intercept_"][0])
    scale, classifier = 1, 2

    def set_field(step, key, value):
        return edit(lambda d: d["steps"][step]["fitted"].__setitem__(key, value))

    return {
        "NaN": (text.replace(first, "NaN", 1).encode(), "NaN is not a number"),
        "infinity": (text.replace(first, "1e999", 1).encode(), "finite float"),
        "short coef_": (
            edit(lambda d: d["steps"][classifier]["fitted"]["coef_"][0].pop()),
            "entries where",
        ),
        "string number": (set_field(classifier, "intercept_", ["-2.1"]), "finite float"),
        "bool for int": (set_field(classifier, "n_iter_", [True]), "finite int"),
        "width": (set_field(scale, "n_features_in_", 3), "where the model has"),
        "missing field": (
            edit(lambda d: d["steps"][scale]["fitted"].pop("scale_")),
            "lacks scale_",
        ),
        "extra key": (edit(lambda d: d.__setitem__("hook", 1)), "unknown key(s) 'hook'"),
        "duplicate key": (text.replace("{", '{"format": 1, ', 1).encode(), "appears twice"),
        "unknown parameter": (
            edit(lambda d: d["steps"][classifier]["params"].__setitem__("func", "eval")),
            "unknown key(s) 'func'",
        ),
        "classifier first": (
            edit(lambda d: d["steps"].reverse()),
            "cannot be the features step",
        ),
        "renamed feature": (
            edit(lambda d: d["steps"][0]["params"]["features"].__setitem__(0, "made_up")),
            "refused by GuidelineFeatures",
        ),
        "names differ": (
            edit(lambda d: d["steps"][0]["fitted"]["feature_names"].__setitem__(0, "made_up")),
            "this code computes the features",
        ),
        "newer version": (edit(lambda d: d.__setitem__("version", 2)), "version 2"),
        "nested 100k deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        "9 MB": (b" " * (9 << 20), "is no model document"),
        "pickle": (pickle.dumps({"a": 1}), "a pickle"),
        "not UTF-8": (b"\xff\xfe{}", "not a JSON model document"),
        "control characters": (
            edit(lambda d: d["steps"][0].__setitem__("class", "\x1b[2J\x1b]0;x")),
            "unknown class '\\x1b[2J",
        ),
    }


def test_a_tampered_document_is_refused_naming_what_is_wrong(genuine, tmp_path):
    cases = _mutations(genuine)
    paths = {"genuine": tmp_path / "genuine.json"}
    paths["genuine"].write_text(json.dumps(genuine))
    for i, (label, (data, _)) in enumerate(cases.items()):
        paths[label] = tmp_path / f"{i}.json"
        paths[label].write_bytes(data)
    run = run_limited(["-m", "tests.helpers.hostile_models", "load", *map(str, paths.values())])
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = {r["path"]: r["refused"] for r in map(json.loads, run.stdout.splitlines())}
    assert outcome.pop(str(paths.pop("genuine"))) is None  # the genuine one loads
    for label, path in paths.items():
        message = outcome[str(path)]
        assert message and cases[label][1] in message, (label, message)
        assert "\x1b" not in message


# --- predict.py ------------------------------------------------------------------------------


def test_a_planted_pickle_in_the_cache_never_runs(store, reference_p, tmp_path):
    root, env, _ = store
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for name in ("pipeline.pickle", "pipeline.pkl", "model.pkl", "pipeline.skops"):
        (_cache_folder(root) / name).write_bytes(pickle.dumps(Payload()))
    after = _p(_draft(tmp_path, env))
    assert not marker.exists()
    assert after == reference_p


@pytest.mark.parametrize("damage", ["empty", "truncated", "other model"])
def test_a_damaged_cache_file_is_fetched_again_with_a_warning(
    store, genuine, reference_p, tmp_path, damage
):
    root, env, _ = store
    cached = _cache_folder(root) / "pipeline.json"
    if damage == "empty":
        cached.write_bytes(b"")
    elif damage == "truncated":
        cached.write_bytes(cached.read_bytes()[: cached.stat().st_size // 2])
    else:  # a valid document of a different model (it would change predictions)
        other = json.loads(json.dumps(genuine))
        other["steps"][2]["fitted"]["intercept_"] = [3.0]
        cached.write_text(json.dumps(other))
    run = _draft(tmp_path, env)
    assert _p(run) == reference_p
    assert "does not match the SHA-256 recorded in run" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_changed_artifact_in_the_artifact_store_is_refused(store, reference_p, tmp_path):
    root, env, result = store
    artifact = _artifacts(result) / "pipeline.json"
    genuine_bytes = artifact.read_bytes()
    cached = _cache_folder(root) / "pipeline.json"
    try:
        artifact.write_bytes(genuine_bytes.replace(b'"n_jobs": -1', b'"n_jobs": 1'))
        cached.write_bytes(b"")
        run = _draft(tmp_path, env)
    finally:
        artifact.write_bytes(genuine_bytes)
    assert run.returncode == 2
    assert "does not match the SHA-256 its training recorded" in run.stderr
    assert "Traceback" not in run.stderr


def _hostile_model(form: str, marker: Path, genuine: dict) -> tuple[dict[str, bytes], str, str]:
    """({artifact name: bytes}, the pipeline's name, the refusal) for one attack form."""
    call = functions(marker)["runstring"]
    if form == "json document":
        doc = hostile_documents(marker, genuine)["class runstring"]
        return {"pipeline.json": doc}, "pipeline.json", "unknown class"
    if form == "skops archive named pipeline.json":
        return {"pipeline.json": skops_archive(*call)}, "pipeline.json", "zip archive"
    call = functions(marker)["assert_run_python_script_without_output"]
    files = {
        "pipeline.skops": skops_archive(*call),
        "pipeline.types.json": skops_type_list(*call[:2]),
    }
    return files, "pipeline.skops", "a format of earlier versions"


@pytest.mark.parametrize(
    "form", ["json document", "skops archive named pipeline.json", "skops archive with type list"]
)
def test_predict_refuses_a_function_calling_model_even_with_its_hash_recorded(
    store, genuine, reference_p, tmp_path, form
):
    """The attacker replaced the artifact and updated the run's recorded hashes."""
    _, env, result = store
    marker = tmp_path / "pwned"
    files, pipeline, refusal = _hostile_model(form, marker, genuine)
    client = mlflow.MlflowClient()
    tags = client.get_run(result.run_id).data.tags
    folder = _artifacts(result)
    kept = {name: (folder / name).read_bytes() for name in files if (folder / name).exists()}
    try:
        for name, data in files.items():
            (folder / name).write_bytes(data)
        hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        client.set_tag(result.run_id, PIPELINE_TAG, pipeline)
        client.set_tag(result.run_id, MODEL_FILES_TAG, json.dumps(hashes))
        run = _draft(tmp_path, env)
    finally:
        for name in files:
            if name in kept:
                (folder / name).write_bytes(kept[name])
            else:
                (folder / name).unlink()
        client.set_tag(result.run_id, PIPELINE_TAG, tags[PIPELINE_TAG])
        client.set_tag(result.run_id, MODEL_FILES_TAG, tags[MODEL_FILES_TAG])
    assert run.returncode == 2, run.stderr
    assert refusal in run.stderr and "retrain with train.py" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not marker.exists()
    assert _p(_draft(tmp_path, env)) == reference_p  # the genuine model is back


# --- the served model ------------------------------------------------------------------------

SERVED = """
import json, sys
import mlflow
import pandas as pd
from models.store.persistence import UntrustedModelError
out = {}
for path in sys.argv[1:]:
    try:
        model = mlflow.pyfunc.load_model(path)
    except UntrustedModelError as exc:
        out[path] = {"refused": str(exc)}
    else:
        frame = pd.DataFrame({"case_summary": [SUMMARY], "service": ["MRI of the lumbar spine"]})
        out[path] = {"p": float(model.predict(frame)["p_overturned"][0])}
print(json.dumps(out))
"""


def _served(env: dict, *folders: Path) -> dict:
    code = SERVED.replace("sys.argv[1:]", repr([str(f) for f in folders]))
    code = code.replace("[SUMMARY]", repr([SUMMARY]))
    return python_limited(code, env)


def _model_folder(store, tmp_path, name: str) -> Path:
    _, _, result = store
    version = mlflow.MlflowClient().get_model_version("imr-outcome", result.version)
    return Path(mlflow.artifacts.download_artifacts(version.source, dst_path=str(tmp_path / name)))


def test_the_served_model_checks_the_recorded_hash_and_refuses_function_calling_files(
    store, genuine, reference_p, tmp_path
):
    _, env, result = store
    marker = tmp_path / "pwned"
    intact = _model_folder(store, tmp_path, "intact")
    hostile = _model_folder(store, tmp_path, "hostile")
    archive = _model_folder(store, tmp_path, "archive")
    document = hostile_documents(marker, genuine)["class assert_run_python_script_without_output"]
    (hostile / "artifacts" / "pipeline.json").write_bytes(document)
    skops = skops_archive(*functions(marker)["savetxt"])
    (archive / "artifacts" / "pipeline.json").write_bytes(skops)
    first = _served(env, intact, hostile)
    assert first[str(intact)]["p"] == pytest.approx(reference_p)
    assert "does not match the SHA-256 its training run" in first[str(hostile)]["refused"]
    client = mlflow.MlflowClient()
    tags = client.get_run(result.run_id).data.tags
    try:  # the attacker also records the hostile files' hashes in the run
        for folder, data in ((hostile, document), (archive, skops)):
            digest = hashlib.sha256(data).hexdigest()
            client.set_tag(result.run_id, MODEL_FILES_TAG, json.dumps({"pipeline.json": digest}))
            refused = _served(env, folder)[str(folder)]["refused"]
            assert "unknown class" in refused or "zip archive" in refused, refused
    finally:
        client.set_tag(result.run_id, MODEL_FILES_TAG, tags[MODEL_FILES_TAG])
    assert not marker.exists()


# --- --model takes registry URIs only --------------------------------------------------------


def test_model_folders_are_refused_and_their_code_never_runs(store, tmp_path):
    _, env, result = store
    marker = tmp_path / "pwned"
    folder = _model_folder(store, tmp_path, "planted")
    entry = folder / "pyfunc_model.py"
    entry.write_text(f"open({str(marker)!r}, 'w').close()\n" + entry.read_text())
    # the control: MLflow runs a model folder's code when it loads it
    python_limited(
        f"import mlflow; mlflow.pyfunc.load_model({str(folder)!r}); print(1)", env, cwd=tmp_path
    )
    assert marker.exists()
    marker.unlink()
    (tmp_path / "s.txt").write_text(SUMMARY)
    draft = ["--summary", str(tmp_path / "s.txt"), "--service", "MRI"]
    for uri in (str(folder), f"file://{folder}", f"runs:/{result.run_id}/model"):
        for command in ([*draft], ["importances"], ["serve", "--port", "0"]):
            run = run_limited([str(REPO / "predict.py"), *command, "--model", uri], env)
            assert run.returncode == 2, (command, run.stderr)
            assert "is not a registry URI" in run.stderr, run.stderr
            assert "models:/NAME@ALIAS" in run.stderr and "Traceback" not in run.stderr
    assert not marker.exists()


def test_loading_refuses_anything_but_a_registry_uri(tmp_path):
    from models.store.loading import ModelURIRefused, PendingLoad, check_model_uri, load

    for uri in ("models:/imr-outcome@champion", "models:/imr-outcome/3"):
        assert check_model_uri(uri) == uri
    for uri in (str(tmp_path), "runs:/abc/model", "models:/x@y/../../z", "models:/x/3a"):
        with pytest.raises(ModelURIRefused, match="not a registry URI"):
            load(uri)
        with pytest.raises(ModelURIRefused):
            PendingLoad(uri)


# --- the signed memo of the store's answer ---------------------------------------------------


def test_an_unchanged_store_is_not_asked_again_and_a_changed_one_is(store, reference_p):
    from models.store.loading import PendingLoad, load

    load()  # asks the store (earlier tests wrote to it) and leaves a signed answer
    pending = PendingLoad()
    assert pending._child is None
    assert score_one(pending.result()) == pytest.approx(reference_p)
    client = mlflow.MlflowClient()
    client.set_registered_model_tag("imr-outcome", "touched", "yes")
    pending = PendingLoad()  # the store was written to: ask it
    try:
        assert pending._child is not None
        assert score_one(pending.result()) == pytest.approx(reference_p)
    finally:
        pending.cancel()
    assert PendingLoad()._child is None  # ... and its answer is remembered again


def score_one(loaded) -> float:
    from data.drafts.rows import draft_rows
    from models.scoring.score import score_rows

    rows = draft_rows(SUMMARY, ["MRI of the lumbar spine"])
    return score_rows(loaded, rows, detailed=False)[0]["p_overturned"]


def test_an_edited_or_unsigned_answer_is_ignored(store, reference_p, cache_key, caplog):
    from models.store.loading import PendingLoad, _store_dir

    (memo,) = _store_dir().glob("answer-*.json")
    genuine = memo.read_text()
    forged = json.loads(genuine)
    forged["answer"]["files"]["pipeline.json"] = "0" * 64  # e.g. to admit another file
    try:
        memo.write_text(json.dumps(forged))
        pending = PendingLoad()
        pending.cancel()
        assert pending._child is not None
        assert "signature does not match" in caplog.text
        memo.write_text(genuine)
        assert PendingLoad()._child is None
        cache_key.chmod(0o644)  # a key others can read signs nothing
        pending = PendingLoad()
        pending.cancel()
        assert pending._child is not None
    finally:
        cache_key.chmod(0o600)
        memo.write_text(genuine)


# --- the web page's kept model details -------------------------------------------------------

PLANTED_DETAILS = """
import dataclasses, json, logging, shutil
logging.basicConfig(level=logging.WARNING)
from models.store.loading import load
from web.model_info import LiveInfo, _cache_file, load_cached, read_model_info, save_cached
from web.app import create_app

loaded = load()
path = _cache_file(loaded.run_id)
genuine = read_model_info(loaded.uri, loaded.run_id, loaded.baseline)
save_cached(genuine)
signed = json.loads(path.read_text())
out = {"genuine copy used": load_cached(loaded.uri, loaded.run_id) == genuine}

planted = dataclasses.asdict(genuine)
planted["images"] = {}
planted["items"] = 123456
planted["evaluation"] = [row[:2] + ["123456"] + ["+0.999"] * (len(row) - 3) for row in
                         planted["evaluation"]]
planted["metrics"] = {k: 0.999 for k in planted["metrics"]}
forms = {
    "unsigned record (the issue's plant)": json.dumps(planted),
    "record with a made-up signature": json.dumps(
        {"record": json.dumps(planted), "signature": "0" * 64}),
    "edited record, genuine signature": json.dumps(
        {"record": signed["record"].replace(str(genuine.items), "123456"),
         "signature": signed["signature"]}),
}
for form, text in forms.items():
    path.write_text(text)
    out[form] = load_cached(loaded.uri, loaded.run_id) is None
other = _cache_file("0" * 32)
path.write_text(json.dumps(signed))
shutil.copy(path, other)
out["a genuine copy under another run"] = load_cached(loaded.uri, "0" * 32) is None

path.write_text(forms["unsigned record (the issue's plant)"])
app = create_app(loaded, LiveInfo(loaded))
page = app.test_client().get("/model").get_data(as_text=True)
out["page"] = {"123456 shown": "123456" in page, "0.999 shown": "0.999" in page,
               "real items shown": str(genuine.items) in page}
print(json.dumps(out))
"""


def test_planted_model_details_never_reach_the_web_page(store, reference_p):
    _, env, _ = store
    out = python_limited(PLANTED_DETAILS, env)
    page = out.pop("page")
    assert out == dict.fromkeys(out, True), out
    assert len(out) == 5
    assert page == {"123456 shown": False, "0.999 shown": False, "real items shown": True}


# --- after an upgrade ------------------------------------------------------------------------


def test_a_champion_of_an_earlier_format_is_refused_and_replaced_by_the_next_training(
    tmp_path, tracking
):
    """A store whose champion was saved by an earlier version (a skops file and its type
    list): predictions refuse it, and train.py, even on the same letters, replaces it."""
    from models.store.loading import load

    generate_corpus(tmp_path / "letters", 60, seed=1)
    first = train([tmp_path / "letters"], dataset_dir=tmp_path / "ds", n_splits=3, repeats=1)
    client = mlflow.MlflowClient()
    client.set_tag(first.run_id, PIPELINE_TAG, "pipeline.skops")
    old_files = {"pipeline.skops": "a" * 64, "pipeline.types.json": "b" * 64}
    client.set_tag(first.run_id, MODEL_FILES_TAG, json.dumps(old_files))
    with pytest.raises(UntrustedModelError, match="format of earlier versions"):
        load()
    second = train([tmp_path / "letters"], dataset_dir=tmp_path / "ds", n_splits=3, repeats=1)
    assert second.alias == "champion"
    assert "earlier format" in second.comparison.reason
    assert load().run_id == second.run_id
