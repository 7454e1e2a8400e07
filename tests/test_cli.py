"""`python -m prefalign checks / figures` (called in-process through cli.main)."""

import json

from prefalign import cli

from conftest import ROOT


def test_checks_table_and_exit_status(capsys):
    assert cli.main(["checks", "--chapter", "setting", "--fast"]) == 0
    out = capsys.readouterr().out
    for column in ("chapter", "theorem", "compared", "against", "measured", "expected", "tolerance", "passed"):
        assert column in out
    assert "hand value" in out and "closed form vs solver" in out
    assert "6 of 6 checks passed" in out


def test_checks_json(capsys):
    assert cli.main(["checks", "--chapter", "setting", "--fast", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["check"] for r in rows} == {"closed_form_vs_minimiser", "gibbs_gap", "sampled_loss_constant", "sampled_optimum_rate",
                                          "sampled_loss_unbiased", "conventions_hand_values"}
    assert all(r["passed"] for r in rows) and all(r["against"] for r in rows)


def test_checks_unknown_chapter_is_an_error(capsys):
    assert cli.main(["checks", "--chapter", "nope"]) == 2
    assert "chapter must be one of" in capsys.readouterr().err


def test_figures_rejects_unknown_parameter(tmp_path, capsys):
    assert cli.main(["figures", "--root", str(ROOT), "--out", str(tmp_path), "--chapter", "setting", "-p", "betta", "1"]) == 1
    assert "['betta'] are not parameters of chapter 'setting'" in capsys.readouterr().err


def test_figures_writes_png_files(tmp_path, capsys):
    args = ["figures", "--root", str(ROOT), "--out", str(tmp_path), "--chapter", "setting",
            "-p", "fast", "True", "-p", "lattice_n", "12", "-p", "beta_demo", "7.5"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    pngs = sorted(p.name for p in (tmp_path / "setting").glob("*.png"))
    assert pngs == ["fig-rate.png", "fig-sampler-map.png"]
    assert all((tmp_path / "setting" / p).read_bytes().startswith(b"\x89PNG") for p in pngs)
    assert str(tmp_path.resolve()) in out
    executed = json.loads((tmp_path / "setting" / "setting.ipynb").read_text())
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "beta_demo = 7.5" in "".join(injected[0]["source"])


def test_every_check_passes_at_full_size(capsys):
    """The published book's numbers: every registered check, default (full) sizes."""
    assert cli.main(["checks"]) == 0, capsys.readouterr().out
