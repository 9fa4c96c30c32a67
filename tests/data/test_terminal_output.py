"""Untrusted text is printed as data by every command line (issue 16, item 3).

Services, summaries, evidence, file names, reasons, model names and URIs may hold rich
markup (``[/bold]``, ``[link=...]``), emoji codes (``:warning:``) and terminal control
sequences (``\\x1b[2J`` clears the screen, ``\\x1b]0;`` sets the window title). Printed to a
terminal, each shows as typed, and the only control sequences on the screen are the
colours rich itself writes (SGR, ``\\x1b[...m``).
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from data.letters.names import printable
from data.terminal_text import plain_text, terminal_console, terminal_text
from models.promotion import Comparison
from models.scoring.output import render, render_importances
from models.training_report import print_training_report

REPO = Path(__file__).resolve().parents[2]
#: What an attacker writes into a service, a summary, a file name or a reason.
HOSTILE = (
    "MRI [/bold] spine",
    "[link=https://evil.example/x]click[/link]",
    "\x1b[2J\x1b]0;pwned\x07 screen",
    "[bold red]loud[/] :warning: \u202eevil",
    "ends in a backslash \\",
)
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _terminal(**options) -> tuple:
    out = io.StringIO()
    options = {"width": 400, **options}
    console = terminal_console(file=out, force_terminal=True, color_system="truecolor", **options)
    return console, out


def _screen(raw: str) -> str:
    """What the terminal shows: rich's own colours removed, nothing else may be left."""
    shown = _SGR.sub("", raw)
    assert "\x1b" not in shown, repr(shown)  # no OSC (links, titles), no cursor moves
    assert "\x07" not in shown and "\x9b" not in shown and "\x9d" not in shown
    return shown


def _assert_each_shows_as_typed(screen: str, values) -> None:
    for value in values:
        assert printable(value) in screen, (value, screen)


#: Pieces of hostile text: tags, escapes, emoji codes, control characters.
_PIECES = ["[", "]", "\\", "/", "bold", "link=x", ":", "warning", "smile", "a", " ", "#", "@"]
_PIECES += ["1", "\x1b", "\x07", "\n", "\u202e", "\x9b"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_terminal_text_and_plain_text_print_exactly_their_characters(value):
    for emoji in (False, True):  # terminal_text holds also where emoji codes are on
        out = io.StringIO()
        console = Console(file=out, force_terminal=True, width=400, emoji=emoji)
        shown = terminal_text(value)
        console.print(f"[bold]{shown}[/bold]", soft_wrap=True)  # a tag follows it
        console.print(f"{shown} and [1] {shown}", soft_wrap=True)  # text follows it
        console.print(plain_text(value, style="italic"), soft_wrap=True)
        expected = printable(value)
        assert _screen(out.getvalue()) == f"{expected}\n{expected} and [1] {expected}\n{expected}\n"


def _result(text: str) -> dict:
    return {
        "service": text,
        "p_overturned": 0.25,
        "p_low": 0.2,
        "p_high": 0.3,
        "category": text,
        "baseline_rate": 0.2,
        "baseline_items": 10,
        "baseline_shrunk_rate": 0.21,
        "warnings": [text],
        "reasons": [{"reason": text, "feature": "x", "effect_log_odds": 0.5, "evidence": [text]}],
        "denial_reasons": [
            {
                "criterion": text,
                "status": "not_documented",
                "evidence": [{"text": text}],
                "to_document": text,
                "cited_in_upheld_share": 0.5,
            },
            {
                "criterion": "trial",
                "status": "not_documented",
                "evidence": [],
                "to_document": text,
                "cited_in_upheld_share": None,
            },
        ],
        "what_if": [{"fact": text, "p_overturned": 0.3, "change": 0.05}],
    }


def test_the_draft_report_prints_every_text_as_typed():
    console, out = _terminal()
    loaded = SimpleNamespace(uri="models:/imr-outcome@[bold]champion")
    render(loaded, [_result(text) for text in HOSTILE], [], console=console)
    screen = _screen(out.getvalue())
    _assert_each_shows_as_typed(screen, [*HOSTILE, loaded.uri])
    assert screen.count("P(Overturned) = 25.0%") == len(HOSTILE)


def test_a_what_if_too_small_to_show_says_so_instead_of_plus_zero():
    console, out = _terminal()
    result = _result("Physical therapy")
    result["what_if"] = [
        {"fact": "a tiny fact", "p_overturned": 0.2502, "change": 0.0002},
        {"fact": "a real fact", "p_overturned": 0.30, "change": 0.05},
    ]
    render(SimpleNamespace(uri="models:/imr-outcome@champion"), [result], [], console=console)
    screen = _screen(out.getvalue())
    assert "no measurable change" in screen and "+5.0 pts" in screen
    assert "+0.0" not in screen and "-0.0" not in screen


def test_denial_reasons_fit_an_80_column_terminal_without_cutting_a_word():
    console, out = _terminal(width=80)
    result = _result("x")
    result["denial_reasons"] = [
        {
            "criterion": "a clinical question the study answers",
            "reason_code": "no_conservative_care_failure",
            "status": "not_documented",
            "evidence": [],
            "to_document": "the surgery or procedure under consideration, or the lesion",
            "p_cited": 0.46,
            "source": "MTUS Low Back Complaints (ACOEM Chapter 12), Special Studies",
        }
    ]
    render(SimpleNamespace(uri="models:/imr-outcome@champion"), [result], [], console=console)
    screen = _screen(out.getvalue())
    assert "…" not in screen  # rich's default cuts a long word with an ellipsis
    assert max(len(line) for line in screen.splitlines()) <= 80
    for word in ("consideration,", "Complaints", "46% likely", "not documented"):
        assert word in screen


def test_importances_print_names_as_typed(capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich writes to the captured stdout as to a tty
    monkeypatch.setenv("COLUMNS", "400")
    table = pd.DataFrame(
        {
            "feature": list(HOSTILE),
            "family": list(HOSTILE),
            "importance": [0.5, 0.4, 0.3, 0.2, 0.1],
            "direction": ["toward Overturned"] * 5,
            "signed_effect": [0.5, 0.4, 0.3, 0.2, 0.1],
        }
    )
    render_importances(table, top=5)
    _assert_each_shows_as_typed(_screen(capsys.readouterr().out), HOSTILE)


def test_the_training_report_prints_names_and_reasons_as_typed(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///[red]x\x1b]0;t\x07.db")
    metrics = pd.DataFrame({"n": [10], "roc_auc": [0.7], "brier": [0.2]}, index=["[/bold] model"])
    result = SimpleNamespace(
        data_summary={
            "data_source": "[red]synthetic",
            "letters": 3,
            "items": 9,
            "overturned": 2,
            "overturn_rate": 0.2,
        },
        ingest_summary={"parsed": 3, "items_added": 9, "failed": 1},
        repeated_table=pd.DataFrame(
            {
                "predictor": ["[/bold] model"],
                "measure": ["[link=https://evil.example/x]auc"],
                "mean": [0.7],
                "ci_low": [0.6],
                "ci_high": [0.8],
            }
        ),
        recipe={"cv_folds": 5},
        cv_table=metrics,
        temporal_table=None,
        reasons_table=None,
        comparison=Comparison(False, "[/] reason \x1b[2J", 0.3, 0.31, 0.7, 0.69),
        champion_before={"version": "[bold]1", "letters": 3, "items": 9, "how": "same"},
        version="2 [/red]",
        run_id="run\x1b]0;x\x07",
    )
    console, out = _terminal()
    print_training_report(result, "imr [/bold] :warning: outcome", console)
    screen = _screen(out.getvalue())
    _assert_each_shows_as_typed(
        screen,
        [
            "imr [/bold] :warning: outcome",
            "[/] reason \x1b[2J",
            "2 [/red]",
            "run\x1b]0;x\x07",
            "sqlite:///[red]x\x1b]0;t\x07.db",
            "[bold]1",
            "[/bold] model",
            "[link=https://evil.example/x]auc",
            "[RED]SYNTHETIC",
        ],
    )


# ---------------------------------------------------------------------------------------
# The command lines' source: nothing reaches rich or print() without going through the
# escaping functions. A static check, so that a new print of a field is caught before it
# meets a hostile value.

#: Modules whose output reaches a terminal (the fetcher's are checked by its own tests).
CLI_MODULES = (
    "predict.py",
    "train.py",
    "models/scoring/output.py",
    "models/training_report.py",
    "data/ingest/__main__.py",
)
#: Calls that print, or build what is printed (their arguments are checked); ``update``
#: only as the method of a status spinner.
_PRINTING = {"print", "rule", "log", "add_row", "add_column", "status", "Table", "Text"}
#: Calls whose result is safe to print whatever they are given.
_ESCAPING = {
    "terminal_text",
    "plain_text",
    "plain_lines",
    "printable",
    "_say",
    "_fail",
    "report_line",
    "_interval_cell",
}
#: Calls that return JSON text (``json.dumps``: control characters escaped, no rich).
_JSON = {"dumps", "json_payload"}
#: Calls that return numbers or text built only from numbers.
_NUMERIC = {"_pct", "_fmt", "_signed_points", "_change_text", "int", "float", "len"}
#: Calls that return renderables built by checked code in these modules.
_BUILT = {
    "metrics_table",
    "repeated_cv_table",
    "champion_table",
    "reasons_table",
    "_explanation_table",
    "_reasons_table",
    "_denial_reasons_table",
    "_what_if_table",
    "Table",
}


class _Unsafe(ast.NodeVisitor):
    """Finds arguments of printing calls that could carry untrusted text unescaped."""

    def __init__(self, tree: ast.Module):
        self.problems: list[tuple[int, str]] = []
        self.safe_names: set[str] = set()
        self.constants = {  # module-level names of literal tuples and lists
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign) and self._literal(node.value)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):  # names only ever bound to safe values
            if isinstance(node, ast.Assign | ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in self._bound(target):
                        if self._safe(node.value):
                            self.safe_names.add(name)
            if isinstance(node, ast.For) and (
                self._literal(node.iter) or getattr(node.iter, "id", None) in self.constants
            ):
                for name in ast.walk(node.target):
                    if isinstance(name, ast.Name):
                        self.safe_names.add(name.id)
        # a name bound anywhere to something unsafe is unsafe everywhere
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if not self._safe(node.value):
                    for target in targets:
                        for name in self._bound(target):
                            self.safe_names.discard(name)

    @classmethod
    def _bound(cls, target: ast.AST) -> list[str]:
        """The names an assignment binds (``x``, ``x, y``, ``*x``), not those it only reads
        to find where to store (``frame[column] = ...`` binds no name)."""
        if isinstance(target, ast.Name):
            return [target.id]
        if isinstance(target, ast.Tuple | ast.List):
            return [name for e in target.elts for name in cls._bound(e)]
        if isinstance(target, ast.Starred):
            return cls._bound(target.value)
        return []

    @classmethod
    def _literal(cls, node: ast.AST) -> bool:
        if isinstance(node, ast.Tuple | ast.List):
            return all(cls._literal(e) for e in node.elts)
        return isinstance(node, ast.Constant)

    @staticmethod
    def _called(node: ast.AST) -> str | None:
        if isinstance(node, ast.Call):
            func = node.func
            return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return None

    def _safe(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(
                self._safe(v.value) or v.format_spec is not None
                for v in node.values
                if isinstance(v, ast.FormattedValue)
            )
        if isinstance(node, ast.BinOp):
            return self._safe(node.left) and self._safe(node.right)
        if isinstance(node, ast.IfExp):
            return self._safe(node.body) and self._safe(node.orelse)
        if isinstance(node, ast.Starred):
            return self._safe(node.value)
        if isinstance(node, ast.GeneratorExp | ast.ListComp):
            return self._safe(node.elt)
        if isinstance(node, ast.Name):
            return node.id in self.safe_names
        called = self._called(node)
        if called == "Text":  # a Text is never markup; its characters must be escaped
            return all(self._safe(arg) for arg in node.args)
        return called in _ESCAPING | _NUMERIC | _BUILT | _JSON

    def visit_Call(self, node: ast.Call) -> None:
        called = self._called(node)
        spinner = called == "update" and getattr(node.func.value, "id", None) == "status"
        if called in _PRINTING or spinner:
            for arg in [*node.args, *(k.value for k in node.keywords if k.arg == "title")]:
                if not self._safe(arg):
                    self.problems.append((node.lineno, ast.unparse(arg)))
        self.generic_visit(node)


def test_the_command_lines_print_nothing_unescaped():
    problems = []
    for module in CLI_MODULES:
        tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
        checker = _Unsafe(tree)
        checker.visit(tree)
        problems += [f"{module}:{line}: {arg}" for line, arg in checker.problems]
    assert problems == []


def test_the_static_check_finds_an_unescaped_field():
    source = (
        "def show(console, result, table):\n"
        "    console.rule(result['service'][:100])\n"
        "    console.print(f'baseline for {result[\"category\"]}')\n"
        "    label = result.get('reason')\n"
        "    table.add_row(label, f'{result[\"p\"]:.3f}')\n"
        "    console.print(f'ok {terminal_text(label)} {result[\"p\"]:.1%}')\n"
    )
    tree = ast.parse(source)
    checker = _Unsafe(tree)
    checker.visit(tree)
    assert [line for line, _ in checker.problems] == [2, 3, 5]


def test_train_refuses_a_model_name_mlflow_cannot_register_before_training(tmp_path):
    """MLflow refused it only after the training, with a traceback."""
    run = subprocess.run(
        [sys.executable, str(REPO / "train.py"), "--model-name", "imr/[bold]x\x1b[2J"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'none.db'}"},
        timeout=120,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "error: --model-name 'imr/[bold]x\\x1b[2J': give a name without" in run.stderr
    assert "\x1b" not in run.stderr and not (tmp_path / "none.db").exists()
