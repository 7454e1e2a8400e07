"""prefalign.data: the shipped files, the Arena and LLMFAO loaders, and the HelpSteer construction.

Facts marked "by hand" were read off the raw files (grep / cut / sort | uniq -c) or computed with
the arithmetic shown, independently of the loaders.
"""

import gzip
import hashlib
import itertools
import json
import math
import tomllib
from pathlib import Path
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from prefalign import data, preferences, social_choice
from prefalign.data.resources import source_file

FIXTURE = ROOT / "tests" / "data" / "helpsteer_fixture.jsonl"


def sigma(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --- shipped files -------------------------------------------------------------------------------

SHA256 = {  # sha256sum of the raw files in shared/data/raw, which were copied byte for byte
    ("chatbot_arena", "PROVENANCE.md"): "d024f2280cecf2f0d3d7272a151a26a4de086635b8110abb6017489e387d4eff",
    ("chatbot_arena", "arena_20240313_heatmaps.json"): "638c787084978d99f5b9c4c1071c072453b2f4d909e6976d7ba3ce7e8f94cd20",
    ("chatbot_arena", "arena_20240313_top22_pairwise.csv"): "1e64f0dd94827d580857552a4880d63d5df3f1e1b021a9cce8018c80015f0977",
    ("llmfao", "LICENSE.CC-BY"): "9ba9550ad48438d0836ddab3da480b3b69ffa0aac7b7878b5a0039e7ab429411",
    ("llmfao", "PROVENANCE.md"): "4eac25b355781071b3b29cffac66a2645a21072c931fdf61474b9cc16537cff6",
    ("llmfao", "README.upstream.md"): "439c6661fb4f557c60575f8ad48941dc7d7396bdc58836bb650ad8d1f059c811",
    ("llmfao", "crowd-comparisons.csv"): "106564a4bf06f047a4662979384313c22d9b4ca901e780f9e8419f8e5581adb1",
    ("llmfao", "crowd-instruction.md"): "ce1e44048949c7e5aebe55a47bdec4e8d87b719db07112bca6b51626d75b733f",
    ("llmfao", "gpt-instruction.txt"): "3f438f2f0c3eb1bc24b8069182239bf342bf4cc625e51cd5e732ece4bd171bc2",
    ("llmfao", "gpt3-crowd-comparisons.csv"): "3f1f1a259acbee6c7a87ea663b0e0b9a3fcd0ff072edc73b5cae0d9cc1dd3fc7",
    ("llmfao", "gpt4-crowd-comparisons.csv"): "86553cbbcb15b030e16fba8dfa7370e8141ff1ab508342f6a18c6fdd908c7d0b",
    ("llmfao", "models.jsonl"): "a94ddd33e2034f87505b548c4ff6bea81513efe6888f24960c958546b6279669",
    ("llmfao", "prompts.jsonl"): "917d233b18976244edf967be9d252ff344c024d9d4ed07780f12190becc3e9fc",
}


@pytest.mark.parametrize(("source", "name"), sorted(SHA256))
def test_shipped_files_are_verbatim_copies(source, name):
    content = data.source_file(source, name).read_bytes()
    assert hashlib.sha256(content).hexdigest() == SHA256[(source, name)]


def test_every_shipped_file_is_listed_and_declared_as_package_data():
    """SOURCES, the data folders and pyproject's package-data globs agree, so `pip install .` ships them."""
    root = resources.files("prefalign.data")
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["prefalign.data"]
    for source, names in data.SOURCES.items():
        on_disk = sorted(p.name for p in root.joinpath(source).iterdir() if p.is_file())
        assert on_disk == sorted(names)
        assert f"{source}/*" in globs


def test_source_file_rejects_unknown_names():
    with pytest.raises(ValueError, match="source must be one of"):
        data.source_file("helpsteer", "train.jsonl")
    with pytest.raises(ValueError, match="name must be one of the files shipped for llmfao"):
        data.source_file("llmfao", "results.jsonl")


# --- Chatbot Arena -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def top10():
    return data.arena(top=10)


def test_arena_pairs_by_hand():
    pairs = data.arena_pairs()
    assert len(pairs) == 231  # C(22, 2) = 22 * 21 / 2
    assert len(set(pairs["model_a"]) | set(pairs["model_b"])) == 22
    assert int((pairs["n_total"] == 0).sum()) == 7  # PROVENANCE: 7 pairs never met
    row = pairs[(pairs["model_a"] == "gpt-4-1106-preview") & (pairs["model_b"] == "gpt-4-0125-preview")].iloc[0]
    assert (row["wins_a"], row["wins_b"], row["ties"], row["n_total"]) == (622, 613, 1116, 2351)


def test_arena_csv_agrees_with_the_heatmaps_it_was_derived_from():
    """wins_a = win_fraction[a, b] * no_tie_count[a, b] and ties = tie_count[a, b] (PROVENANCE), from the other shipped file."""
    maps = json.loads(data.source_file("chatbot_arena", "arena_20240313_heatmaps.json").read_text())["heatmaps"]

    def cell(name, a, b):
        m = maps[name]
        return m["z"][m["rows_model_a"].index(a)][m["cols_model_b"].index(b)]

    for r in data.arena_pairs().itertuples():
        if r.n_total == 0:
            continue
        decisive = cell("battle_count_no_ties", r.model_a, r.model_b)
        assert r.wins_a == pytest.approx(cell("win_fraction_row_over_col_no_ties", r.model_a, r.model_b) * decisive, abs=1e-9)
        assert r.wins_a + r.wins_b == decisive
        assert r.ties == cell("tie_count", r.model_a, r.model_b)
        assert r.n_total == cell("battle_count_all", r.model_a, r.model_b)


def test_top10_is_complete_with_provenance_tie_counts(top10):
    assert len(top10.models) == 10
    iu = np.triu_indices(10, k=1)
    assert np.all(top10.battles[iu] > 0)
    # PROVENANCE: "18,235 ties against 36,886 decisive battles among the top 10"
    assert int(top10.ties[iu].sum()) == 18_235
    assert int((top10.wins + top10.wins.T)[iu].sum()) == 36_886
    preferences.validate(top10.P)
    preferences.validate(top10.P_no_ties)


def test_top10_condorcet_winner_is_gpt4_1106(top10):
    for P in (top10.P, top10.P_no_ties):
        assert top10.models[social_choice.condorcet_winner(P)] == "gpt-4-1106-preview"
    i, j = top10.models.index("gpt-4-1106-preview"), top10.models.index("gpt-4-0125-preview")
    assert top10.P[i, j] == pytest.approx((622 + 1116 / 2) / 2351, abs=1e-15)  # ties count half
    assert top10.P_no_ties[i, j] == pytest.approx(622 / 1235, abs=1e-15)


def test_arena_three_model_cycle_by_hand(top10):
    names = ["bard-jan-24-gemini-pro", "gpt-4-0314", "qwen1.5-72b-chat"]
    idx = [top10.models.index(m) for m in names]
    P = top10.P[np.ix_(idx, idx)]
    # counts from the CSV: gpt-4-0314 vs bard 80-93 (50 ties); gpt-4-0314 vs qwen 110-80 (91); bard vs qwen 99-100 (88)
    assert P[0, 1] == pytest.approx((93 + 25) / 223)
    assert P[1, 2] == pytest.approx((110 + 45.5) / 281)
    assert P[2, 0] == pytest.approx((100 + 44) / 287)
    assert P[0, 1] > 0.5 and P[1, 2] > 0.5 and P[2, 0] > 0.5
    assert preferences.is_cyclic(P) and preferences.is_cyclic(top10.P_no_ties[np.ix_(idx, idx)])


def test_arena_ranking_is_by_decisive_bradley_terry(top10):
    assert list(top10.ranking["model"][:10]) == top10.models
    assert np.all(np.diff(top10.ranking["bt_score"]) <= 0)
    assert top10.ranking["model"].iloc[10] == "claude-1"  # 11th, less than one Elo point behind mistral-medium
    assert np.all(top10.votes_per_model() == top10.battles.sum(axis=1))


def test_arena_top_with_a_pair_that_never_met_is_refused():
    # ranks 3 and 12: claude-3-opus-20240229 never met claude-2.0
    with pytest.raises(ValueError, match="claude-3-opus-20240229 and claude-2.0 never met"):
        data.arena(top=12)
    with pytest.raises(ValueError, match="top must be <= 22"):
        data.arena(top=23)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wins_a": -1}, r"pairs\[.wins_a.\] must hold non-negative whole counts <= \d+; row 0 has -1"),
        ({"ties": 2.5}, r"pairs\['ties'\] must hold non-negative whole counts <= 9007199254740992; row 0 has 2.5"),
        ({"n_total": 10}, "wins_a \\+ wins_b \\+ ties = n_total; row 0 has 2351 != 10"),
        ({"model_b": "gpt-4-1106-preview"}, "two different models; row 0"),
    ],
)
def test_arena_bad_counts(change, message):
    pairs = data.arena_pairs()
    for col, value in change.items():
        pairs[col] = pairs[col].astype(object)
        pairs.loc[0, col] = value
    with pytest.raises(ValueError, match=message):
        data.arena(pairs=pairs)


def test_arena_bad_tables(tmp_path):
    pairs = data.arena_pairs()
    with pytest.raises(ValueError, match=r"missing \['ties'\]"):
        data.arena_pairs(pairs.drop(columns="ties"))
    with pytest.raises(ValueError, match="each pair of models once; row 231"):
        data.arena_pairs(pd.concat([pairs, pairs.iloc[[0]]]))
    with pytest.raises(FileNotFoundError, match="no such file"):
        data.arena_pairs(tmp_path / "missing.csv")


# --- LLMFAO --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crowd():
    return data.llmfao("crowd")


def test_llmfao_crowd_by_hand(crowd):
    # cut -f6 | sort | uniq -c: 2911 left, 2549 right, 3471 tie; 124 workers, 13 prompts, 2,139 items
    assert len(crowd.votes) == 8931
    assert crowd.votes["prompt"].nunique() == 13
    assert crowd.votes["worker"].nunique() == 124
    assert crowd.votes["winner"].value_counts().to_dict() == {"tie": 3471, "left": 2911, "right": 2549}
    assert len(crowd.pairs) == 2139
    assert int(crowd.pairs["votes"].sum()) == 8931
    assert int(crowd.pairs["ties"].sum()) == 3471
    assert int((crowd.pairs["wins_a"] + crowd.pairs["wins_b"]).sum()) == 2911 + 2549


@pytest.mark.parametrize(("judge", "left", "right", "tie"), [("gpt4", 943, 1130, 66), ("gpt3", 1352, 593, 194)])
def test_llmfao_judges_by_hand(crowd, judge, left, right, tie):
    votes = data.llmfao(judge).votes
    assert votes["winner"].value_counts().to_dict() == {"left": left, "right": right, "tie": tie}
    # the LLM judges saw exactly the crowd's (prompt, pair) items, once each
    judged = set(zip(votes["prompt"], votes["model_x"], votes["model_y"]))
    assert judged == set(zip(crowd.votes["prompt"], crowd.votes["model_x"], crowd.votes["model_y"]))
    assert len(votes) == len(judged) == 2139


def test_complete_subtournaments_match_triangle_count(crowd):
    """Triangles counted independently as trace(A³)/6 of each prompt's adjacency matrix."""
    triangles = 0
    for _, group in crowd.pairs.groupby("prompt"):
        nodes = sorted(set(group["model_a"]) | set(group["model_b"]))
        index = {m: i for i, m in enumerate(nodes)}
        A = np.zeros((len(nodes), len(nodes)), dtype=np.int64)
        for a, b in zip(group["model_a"], group["model_b"]):
            A[index[a], index[b]] = A[index[b], index[a]] = 1
        triangles += int(np.trace(A @ A @ A)) // 6
    subs = crowd.complete_subtournaments(3)
    assert len(subs) == triangles
    assert subs.P.shape == (triangles, 3, 3) and subs.models.shape == (triangles, 3)
    preferences.validate(subs.P)
    judged = subs.wins + np.swapaxes(subs.wins, 1, 2) + subs.ties
    assert np.all(judged[:, ~np.eye(3, dtype=bool)] >= 1)  # every pair of every sub-tournament has a vote


def test_complete_subtournament_counts_are_the_votes(crowd):
    subs = crowd.complete_subtournaments(3)
    t = 0
    prompt, (a, b, c) = subs.prompt[t], subs.models[t]
    pair = crowd.pairs[(crowd.pairs["prompt"] == prompt) & (crowd.pairs["model_a"] == a) & (crowd.pairs["model_b"] == b)].iloc[0]
    assert (subs.wins[t, 0, 1], subs.wins[t, 1, 0], subs.ties[t, 0, 1]) == (pair["wins_a"], pair["wins_b"], pair["ties"])
    votes = crowd.votes[(crowd.votes["prompt"] == prompt) & (crowd.votes[["model_x", "model_y"]].isin([a, b]).all(axis=1))]
    n = len(votes)
    a_wins = int(((votes["winner"] == "left") & (votes["model_x"] == a)).sum() + ((votes["winner"] == "right") & (votes["model_y"] == a)).sum())
    assert subs.P[t, 0, 1] == pytest.approx((a_wins + 0.5 * int((votes["winner"] == "tie").sum())) / n)
    assert c in subs.models[t] and subs.labels[t].startswith(crowd.prompts.set_index("id").loc[prompt, "slug"] + ": ")


def test_subtournaments_of_size_four_are_few(crowd):
    assert len(crowd.complete_subtournaments(4)) == 5
    assert len(crowd.complete_subtournaments(6)) == 0


def test_gpt3_is_far_more_cyclic_than_crowd_and_gpt4(crowd):
    cyclic = {judge: int(np.sum(data.llmfao(judge).complete_subtournaments(3).structure() == "cyclic"))
              for judge in ("gpt4", "gpt3")}
    cyclic["crowd"] = int(np.sum(crowd.complete_subtournaments(3).structure() == "cyclic"))
    assert cyclic["gpt3"] > 4 * max(cyclic["crowd"], cyclic["gpt4"])


def test_llmfao_bad_votes(tmp_path):
    votes = data.llmfao("gpt4").votes.copy()
    bad = votes.copy()
    bad.loc[3, "winner"] = "both"
    with pytest.raises(ValueError, match=r"votes\['winner'\] must be one of \['left', 'right', 'tie'\]; row 3 has 'both'"):
        data.llmfao("gpt4", votes=bad)
    bad = votes.copy()
    bad["model_y"] = bad["model_y"].astype(float)
    bad.loc[5, "model_y"] = 2.5
    with pytest.raises(ValueError, match=r"votes\['model_y'\] must hold non-negative integer ids; row 5 has 2.5"):
        data.llmfao("gpt4", votes=bad)
    bad = votes.copy()
    bad.loc[0, "model_y"] = bad.loc[0, "model_x"]
    with pytest.raises(ValueError, match="compare two different responses; row 0"):
        data.llmfao("gpt4", votes=bad)
    with pytest.raises(ValueError, match=r"missing \['winner'\]"):
        data.llmfao("gpt4", votes=votes.drop(columns="winner"))
    with pytest.raises(ValueError, match="judge must be one of"):
        data.llmfao("claude")
    with pytest.raises(FileNotFoundError):
        data.llmfao("crowd", votes=tmp_path / "none.csv")


# --- HelpSteer construction ----------------------------------------------------------------------


def test_fixture_reads_and_accounts_for_every_row():
    H = data.helpsteer_matrices(FIXTURE, k=4, seed=3)
    assert not H.synthetic
    # 5 prompts, 20 rows: "haiku" has 3 responses (skipped), "recursion" 5 (one unused), three have 4
    assert H.report == {"rows": 20, "prompts": 5, "matrices": 4, "skipped_prompts_fewer_than_k": 1,
                        "skipped_rows": 3, "prompts_with_more_than_k": 1, "unused_rows": 1}
    assert list(H.prompt) == ["Name three primary colours.", "Explain recursion.", "Say hello.", "Compare three answers."]
    assert H.P.shape == (4, 4, 4) and H.scores.shape == (4, 4, 5)


def test_fixture_bradley_terry_prompt_by_hand():
    H = data.helpsteer_matrices(FIXTURE, k=4, seed=3)
    # every attribute gives scores (4, 3, 1, 0), so whatever attribute is drawn P[i, j] = σ(s_i − s_j)
    s = [4, 3, 1, 0]
    expected = np.array([[sigma(s[i] - s[j]) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(H.P[0], expected, atol=1e-15)
    assert H.P[0, 0, 1] == pytest.approx(0.7310585786300049)  # σ(1)
    assert H.structure[0] == "strongly transitive"
    np.testing.assert_array_equal(H.P[2], np.full((4, 4), 0.5))  # all scores 2: every pair ties
    assert H.structure[2] == "neither"


def _brute_force_structure(P):
    """Independent classification: directed 3- and 4-cycles, then all 24 orders for SST."""
    K = P.shape[0]
    for m in (3, 4):
        for cyc in itertools.permutations(range(K), m):
            if all(P[cyc[t], cyc[(t + 1) % m]] > 0.5 for t in range(m)):
                return "cyclic"
    for o in itertools.permutations(range(K)):
        if all(P[o[a], o[b]] > 0.5 for a in range(K) for b in range(a + 1, K)) and all(
            P[o[i], o[k]] >= max(P[o[i], o[j]], P[o[j], o[k]])
            for i in range(K) for j in range(i + 1, K) for k in range(j + 1, K)
        ):
            return "strongly transitive"
    return "neither"


@pytest.mark.parametrize("seed", range(8))
def test_fixture_entries_follow_the_drawn_attributes(seed):
    H = data.helpsteer_matrices(FIXTURE, k=4, seed=seed)
    frame = pd.read_json(FIXTURE, lines=True)
    for n in range(len(H)):
        for i, j in itertools.permutations(range(4), 2):
            a = data.ATTRIBUTES[H.attribute[n, i, j]]
            si, sj = frame.loc[H.rows[n, i], a], frame.loc[H.rows[n, j], a]
            assert H.P[n, i, j] == pytest.approx(sigma(si - sj), abs=1e-15)
        assert H.attribute[n, i, j] == H.attribute[n, j, i]
        assert H.structure[n] == _brute_force_structure(H.P[n])


def test_attribute_dependent_winners_close_a_cycle():
    # response 0: helpfulness 4, correctness 0; 1: 2, 4; 2: 0, 2 (fixture prompt "Compare three answers.")
    scores = np.array([[[4, 0, 2, 1, 1], [2, 4, 0, 1, 1], [0, 2, 4, 1, 1]]], dtype=float)
    attribute = np.array([[[0, 0, 1], [0, 0, 0], [1, 0, 0]]])  # (0,1), (1,2) on helpfulness; (0,2) on correctness
    P = data.helpsteer.pair_matrices(scores, attribute)[0]
    assert P[0, 1] == pytest.approx(sigma(2)) and P[1, 2] == pytest.approx(sigma(2)) and P[2, 0] == pytest.approx(sigma(2))
    assert preferences.structure(P) == "cyclic"


def test_k3_uses_the_three_response_prompt():
    H = data.helpsteer_matrices(FIXTURE, k=3, seed=0)
    assert H.report["matrices"] == 5 and H.report["skipped_prompts_fewer_than_k"] == 0
    assert H.report["unused_rows"] == 1 + 2 + 1 + 1  # one from each 4-response prompt, two from "recursion"


def test_same_seed_same_matrices_and_different_seed_different_draws():
    a = data.helpsteer_matrices(FIXTURE, seed=11)
    b = data.helpsteer_matrices(FIXTURE, seed=11)
    np.testing.assert_array_equal(a.attribute, b.attribute)
    draws = {data.helpsteer_matrices(FIXTURE, seed=s).attribute.tobytes() for s in range(5)}
    assert len(draws) > 1


def test_synthetic_helpsteer_shape_range_and_correlation():
    frame = data.synthetic_helpsteer(400, seed=1)
    assert list(frame.columns) == ["prompt", "response", *data.ATTRIBUTES]
    assert len(frame) == 1600 and frame["prompt"].nunique() == 400
    scores = frame[list(data.ATTRIBUTES)].to_numpy()
    assert scores.min() >= 0 and scores.max() <= 4 and scores.dtype.kind == "i"
    corr = np.corrcoef(scores.T)
    assert np.all(corr[np.triu_indices(5, k=1)] > 0.1)  # attributes share a quality
    H = data.helpsteer_matrices(frame, seed=2)
    assert H.synthetic and len(H) == 400 and sum(H.counts().values()) == 400
    assert set(H.counts()) == set(preferences.STRUCTURES)


def test_synthetic_helpsteer_is_reproducible():
    pd.testing.assert_frame_equal(data.synthetic_helpsteer(50, seed=4), data.synthetic_helpsteer(50, seed=4))


def test_paper_counts_are_the_papers():
    assert data.PAPER_HELPSTEER_COUNTS == {"cyclic": 118, "strongly transitive": 4924}


def _write(tmp_path, frame, name="bad.jsonl"):
    path = tmp_path / name
    frame.to_json(path, orient="records", lines=True)
    return path


def test_helpsteer_bad_inputs(tmp_path):
    good = pd.read_json(FIXTURE, lines=True)
    with pytest.raises(FileNotFoundError, match="no HelpSteer file"):
        data.helpsteer_matrices(tmp_path / "train.jsonl", seed=0)
    with pytest.raises(ValueError, match=r"missing \['verbosity'\]"):
        data.helpsteer_matrices(_write(tmp_path, good.drop(columns="verbosity")), seed=0)
    bad = good.copy()
    bad.loc[6, "coherence"] = 5
    with pytest.raises(ValueError, match=r"data\['coherence'\] must hold whole scores in 0–4; bad.jsonl, line 7 has 5"):
        data.helpsteer_matrices(_write(tmp_path, bad), seed=0)
    bad = good.astype({"helpfulness": float})
    bad.loc[2, "helpfulness"] = 2.5
    with pytest.raises(ValueError, match="row 2 has 2.5"):
        data.helpsteer_matrices(bad, seed=0)
    bad.loc[2, "helpfulness"] = np.nan
    with pytest.raises(ValueError, match="row 2 has nan"):
        data.helpsteer_matrices(bad, seed=0)
    bad = good.copy()
    bad.loc[0, "verbosity"] = -1
    with pytest.raises(ValueError, match="bad.csv.jsonl, line 1 has -1"):
        data.read_helpsteer(_write(tmp_path, bad, "bad.csv.jsonl"))
    (tmp_path / "scores.xlsx").write_text("x")
    with pytest.raises(ValueError, match="must end in .jsonl, .json, .parquet or .csv"):
        data.read_helpsteer(tmp_path / "scores.xlsx")
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="could not read broken.jsonl"):
        data.read_helpsteer(tmp_path / "broken.jsonl")
    with pytest.raises(ValueError, match="k must be >= 2"):
        data.helpsteer_matrices(good, k=1, seed=0)


def test_helpsteer_reads_csv_and_gzipped_jsonl(tmp_path):
    good = pd.read_json(FIXTURE, lines=True)
    good.to_csv(tmp_path / "train.csv", index=False)
    good.to_json(tmp_path / "train.jsonl.gz", orient="records", lines=True, compression="gzip")
    reference = data.helpsteer_matrices(FIXTURE, seed=5)
    for name in ("train.csv", "train.jsonl.gz"):
        np.testing.assert_array_equal(data.helpsteer_matrices(tmp_path / name, seed=5).P, reference.P)


def test_all_prompts_too_small_gives_no_matrices_but_a_report():
    frame = pd.read_json(FIXTURE, lines=True)
    H = data.helpsteer_matrices(frame, k=6, seed=0)
    assert len(H) == 0 and H.report["skipped_prompts_fewer_than_k"] == 5 and H.report["skipped_rows"] == 20
    assert H.counts() == {"cyclic": 0, "strongly transitive": 0, "neither": 0}


def test_arena_vote_sampler_by_hand(top10):
    mu = top10.vote_sampler()
    i = top10.models.index("gpt-4-1106-preview")
    # votes of gpt-4-1106-preview against the other nine, over twice the votes among the ten (18,235 + 36,886)
    assert mu[i] == pytest.approx(top10.battles[i].sum() / (2 * (18_235 + 36_886)), rel=1e-15)
    assert mu.sum() == pytest.approx(1.0, abs=1e-15) and np.all(mu > 0)


def test_position_only_cyclic_share_by_simulation():
    # no ties: 2 * (1/2)^3 = 1/4
    assert data.position_only_cyclic_share(0.0) == 0.25
    assert data.position_only_cyclic_share(1.0) == 0.0
    # simulate the judge: a fair coin puts the first response of each pair left; the judge picks
    # left 50%, right 20%, tie 30% whatever the answers (the share depends on the tie rate only)
    rng = np.random.default_rng(0)
    n = 200_000
    first_left = rng.uniform(size=(n, 3)) < 0.5
    verdict = rng.choice(["left", "right", "tie"], p=[0.5, 0.2, 0.3], size=(n, 3))
    first_wins = np.where(verdict == "tie", 0, np.where((verdict == "left") == first_left, 1, -1))
    # pairs (1,2), (2,3), (3,1): cyclic iff all three first responses win, or all three lose
    cyclic = np.mean(np.all(first_wins == 1, axis=1) | np.all(first_wins == -1, axis=1))
    assert cyclic == pytest.approx(data.position_only_cyclic_share(0.3), abs=3e-3)
    with pytest.raises(ValueError, match="tie_share must lie in"):
        data.position_only_cyclic_share(1.5)


def test_llmfao_coverage_by_hand(crowd):
    cov = crowd.coverage()
    assert len(cov) == 13 and int(cov["judged"].sum()) == 2139
    assert cov["responses"].min() == 52 and cov["responses"].max() == 59  # PROVENANCE: 52–59 responses each
    row = cov.iloc[0]
    assert row["share"] == pytest.approx(row["judged"] / (row["responses"] * (row["responses"] - 1) / 2))


def test_the_wheel_ships_every_data_file(tmp_path):
    """`pip install .` gets the data: the built wheel holds every file of src/prefalign/data/<source>/."""
    import shutil
    import subprocess
    import sys
    import zipfile

    from conftest import ROOT

    project = tmp_path / "project"  # build from a copy: setuptools writes build/ next to the sources
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-CONTENT.md"):
        shutil.copy(ROOT / name, project / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(tmp_path / "dist"), str(project)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("prefalign-*.whl"))
    shipped = set(zipfile.ZipFile(wheel).namelist())
    data_dir = ROOT / "src" / "prefalign" / "data"
    expected = {f"prefalign/data/{p.relative_to(data_dir).as_posix()}" for p in data_dir.glob("*/*") if p.is_file()}
    assert expected and expected <= shipped, sorted(expected - shipped)


# --- strict files: each broken file is a ValueError naming the file and the line -----------------


def _arena_csv(tmp_path, text: str) -> Path:
    path = tmp_path / "pairs.csv"
    path.write_text(text)
    return path


def test_arena_file_problems_name_the_file_and_line(tmp_path):
    with source_file("chatbot_arena", "arena_20240313_top22_pairwise.csv").open("r", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    header, rows = lines[0], lines[1:]
    first = rows[0].split(",")
    padded = ",".join([" " + first[0]] + first[1:])
    misspelt = ",".join([first[0] + "x"] + first[1:])
    cases = [
        ("\n".join([header, padded, *rows[1:]]) + "\n", r"model_a'\] must be a non-empty model name without surrounding spaces; pairs file .*, line 2"),
        ("\n".join([header, misspelt, *rows[1:]]) + "\n", r"must list every pair of its 23 models .* a misspelt model name or a truncated file\?"),
        ("\n".join([header, *rows[:-1]]) + "\n", r"must list every pair of its 22 models \(231 rows\), got 230"),
        ("\n".join([header, ",".join([""] + first[1:]), *rows[1:]]) + "\n", r"model_a'\] must be a non-empty model name.*line 2 has nan"),
        ("", r"pairs file .* is empty"),
        ("\n".join([header, ",".join(first[:2] + ["9.3e18", "0", "0", "9.3e18"]), *rows[1:]]) + "\n", r"wins_a'\] must hold non-negative whole counts <= 9007199254740992; .*line 2"),
    ]
    for text, message in cases:
        with pytest.raises(ValueError, match=message):
            data.arena_pairs(_arena_csv(tmp_path, text))
    binary = tmp_path / "pairs.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 50)
    with pytest.raises(ValueError, match="is not a readable UTF-8 CSV file"):
        data.arena_pairs(binary)


def test_llmfao_file_problems_name_the_file_and_line(tmp_path):
    with source_file("llmfao", "gpt4-crowd-comparisons.csv").open("r", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    header, rows = lines[0], lines[1:]
    path = tmp_path / "votes.csv"

    def load(*body: str):
        path.write_text("\n".join([header, *body]) + "\n")
        return data.llmfao("gpt4", votes=path)

    first = rows[0].split(",")  # id,prompt,model_x,model_y,winner,left,right
    with pytest.raises(ValueError, match=r"one vote per voter and item; votes file .*, line 3 repeats the vote of the judge"):
        load(rows[0], rows[0])
    with pytest.raises(ValueError, match=r"votes\['model_x'\] must hold non-negative integer ids; .*line 2 has -3"):
        load(",".join(first[:2] + ["-3"] + first[3:]))
    with pytest.raises(ValueError, match=r"votes\['model_y'\] must hold ids listed in models.jsonl; .*line 2 has the unknown id 4242"):
        load(",".join(first[:3] + ["4242"] + first[4:]))
    with pytest.raises(ValueError, match=r"votes\['prompt'\] must hold ids listed in prompts.jsonl"):
        load(",".join(first[:1] + ["777"] + first[2:]))
    assert len(load(*rows).votes) == 2139  # the whole file, as shipped, loads


def test_shipped_votes_are_checked_against_their_totals(monkeypatch):
    import importlib

    module = importlib.import_module("prefalign.data.llmfao")
    monkeypatch.setitem(module.SHIPPED_VOTES, "gpt4", 2140)
    with pytest.raises(ValueError, match="gpt4-crowd-comparisons.csv does not match its provenance: 2139 votes, expected 2140"):
        data.llmfao("gpt4")


def test_helpsteer_file_problems(tmp_path):
    good = pd.read_json(FIXTURE, lines=True)
    bad = good.astype({"verbosity": object})
    bad.loc[1, "verbosity"] = True
    with pytest.raises(ValueError, match=r"data\['verbosity'\] must hold whole scores in 0–4; bad.jsonl, line 2 has True"):
        data.read_helpsteer(_write(tmp_path, bad))
    bad = good.copy()
    bad.loc[3, "response"] = None
    with pytest.raises(ValueError, match=r"data\['response'\] must be text \(not missing\); bad.jsonl, line 4 has nan"):
        data.read_helpsteer(_write(tmp_path, bad))
    with pytest.raises(ValueError, match=r"each response of a prompt once; bad.jsonl, line 2 repeats"):
        data.read_helpsteer(_write(tmp_path, pd.concat([good.iloc[[0]], good]).reset_index(drop=True)))
    corrupt = tmp_path / "train.jsonl.gz"
    corrupt.write_bytes(gzip.compress(FIXTURE.read_bytes())[:40])
    with pytest.raises(ValueError, match="could not read train.jsonl.gz"):
        data.read_helpsteer(corrupt)
    corrupt.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="could not read train.jsonl.gz"):
        data.read_helpsteer(corrupt)
