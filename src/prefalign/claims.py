"""The claims map: each claim of the paper (and each addition of the book) → the book's results,
their checks with the verdict of the last build, their figures, and a status.

A status says how strong the book's support is, never stronger than its proof:

* ``proved``: the book proves it, in the paper's generality;
* ``proved under hypotheses``: proved, under the hypotheses named in ``hypotheses``;
* ``observed``: seen numerically on the instances the book computes, not proved;
* ``conjecture``: stated as a conjecture, with numerical evidence;
* ``not reproducible offline``: the paper's evidence needs what the book cannot ship (``why``).

:func:`fragment` renders the map as MyST from :data:`CLAIMS` and the checks tables of the
executed chapters (the verdicts are read from there, not typed); the build writes it into the
claims page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from prefalign.checks.table import PROOF_PREFIXES, escape_markdown

STATUSES = ("proved", "proved under hypotheses", "observed", "conjecture", "not reproducible offline")
CHECKS_METADATA = "prefalign-checks"
"""Key of the machine-readable check rows in the metadata of a chapter's checks table output."""


@dataclass(frozen=True)
class Claim:
    """One claim: what it says (``text``), where it comes from (``source``: "paper" or "book"), the
    labels of the book's results that establish it, the figures that show it, its status, and the
    hypotheses or the reason that qualify the status."""

    text: str
    source: str
    results: tuple[str, ...]
    figures: tuple[str, ...]
    status: str
    qualifier: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.source not in ("paper", "book"):
            raise ValueError(f"source must be 'paper' or 'book', got {self.source!r}")
        if self.status in ("proved under hypotheses", "not reproducible offline") and not self.qualifier:
            raise ValueError(f"a claim with status {self.status!r} must name its hypotheses or reason (qualifier)")


CLAIMS: tuple[Claim, ...] = (
    Claim("The sampler sets IPO's target: the population optimum is $\\pi^\\star \\propto \\pi_{\\mathrm{ref}}\\odot"
          " e^{\\beta P\\mu}$ for every full-support $\\mu$, and the sampled optimum converges to it.", "paper",
          ("def-preference-matrix", "thm-ipo-closed-form", "lem-ipo-sampled-loss", "lem-ipo-gibbs", "cor-ipo-ranking", "prop-ipo-sampled-rate"),
          ("fig-setting-sampler-map", "fig-setting-rate"), "proved"),
    Claim("No fixed sampler guarantees Condorcet-top, Smith-top or order preservation: for every $\\mu$ some $P$"
          " breaks each.", "paper", ("thm-ranking-fixed-fails",),
          ("fig-ranking-violations", "fig-ranking-counterexample"), "proved"),
    Claim("A sampler that depends on $P$ restores Condorcet-top and Smith-top.", "paper",
          ("thm-ranking-smith", "lem-ranking-reversed-lottery"), ("fig-ranking-violations",), "proved"),
    Claim("Strong transitivity preserves the order for every full-support sampler; transitivity alone may"
          " not.", "paper", ("thm-ranking-sst", "lem-ranking-row-dominance", "lem-ranking-lp"),
          ("fig-ranking-transitive",), "proved"),
    Claim("Top-heavy (e.g. on-policy) sampling widens the logit gaps of IPO's optimum.", "paper",
          ("lem-concentration-gap", "thm-concentration-abel", "prop-concentration-pairs", "prop-concentration-balance",
           "lem-concentration-onpolicy", "prop-concentration-onpolicy"),
          ("fig-concentration-profiles", "fig-concentration-balance"), "proved under hypotheses",
          "row dominance of the pair ($P_{ik} - P_{jk}$ non-increasing in $k$); strong transitivity for on-policy samplers"),
    Claim("On-policy sampling lowers the entropy of the optimum.", "paper", (), ("fig-concentration-entropy",),
          "observed", "on the Bradley–Terry example; on $P_\\natural$ the entropy rises instead"),
    Claim("Iterated rounds (MRS-IPO): one round in closed form, a unique fixed point that depends on"
          " $\\kappa = \\beta\\lambda/(1-\\alpha)$ at $\\lambda = 1$, eigenvalues $\\alpha \\pm i\\beta\\lambda\\omega_k$.",
          "paper", ("lem-osc-round", "prop-osc-fixed-point", "thm-osc-jacobian", "cor-stab-kappa"),
          ("fig-osc-trajectories",), "proved"),
    Claim("Cyclic preferences make the rounds oscillate for ever above a threshold.", "paper",
          ("thm-osc-cycle", "thm-osc-unstable", "thm-osc-neimark-sacker"),
          ("fig-osc-phase", "fig-osc-amplitude", "fig-osc-period"), "proved under hypotheses",
          "on the 3-cycle $P_a$ with uniform $\\pi_{\\mathrm{ref}}$ and $\\pi_0$"),
    Claim("With a fully self-referential reference ($\\alpha = 1$, Hedge self-play) a cyclic $P$ spirals out"
          " to the boundary.", "paper", ("thm-osc-hedge",), ("fig-osc-hedge",), "proved under hypotheses",
          "on the 3-cycle $P_a$"),
    Claim("A contraction condition gives global convergence for every $P$.", "paper",
          ("lem-stab-covariance", "thm-stab-contraction"), ("fig-stab-regions",), "proved"),
    Claim("Beyond the contraction condition: local stability is global on the quadratic region and on the"
          " 3-cycle.", "book", ("conj-stab-region", "conj-stab-cycle"), ("fig-stab-regions",), "conjecture"),
    Claim("A stable fixed point can coexist with an attracting cycle.", "book", ("prop-stab-coexistence",),
          ("fig-stab-basins",), "proved under hypotheses",
          "computer-assisted: spectral radii and the orbit computed in floating point, not interval arithmetic"),
    Claim("Strong transitivity makes the policy's entropy collapse as the feedback grows, exactly at"
          " $\\alpha = 1$.", "paper", ("lem-stab-dominance", "thm-stab-collapse", "thm-stab-hedge"),
          ("fig-stab-entropy-kappa", "fig-stab-hedge", "fig-stab-phase", "fig-stab-lambda"),
          "proved under hypotheses", "strictly strongly transitive $P$ (row dominance), interior start"),
    Claim("DPO's optimum is the same for every full-support sampler iff $P$ is Bradley–Terry; near uniform it"
          " is IPO's with $4\\beta$.", "paper",
          ("lem-dpo-gradient", "thm-dpo-existence", "cor-dpo-two", "thm-dpo-bt", "prop-dpo-spread", "thm-dpo-local",
           "thm-dpo-linear"), ("fig-dpo-invariance", "fig-dpo-linear", "fig-dpo-local"), "proved"),
    Claim("DPO ranks the responses exactly as IPO does, with logit gaps at least IPO's at $4\\beta$; so fixed"
          " sampling fails for DPO, the Smith sampler restores Condorcet-top and Smith-top, strong transitivity"
          " preserves the order, and MRS-DPO's entropy collapses as MRS-IPO's does.", "book",
          ("thm-dpo-ranking", "cor-dpo-ranking", "cor-dpo-collapse"), (), "proved under hypotheses",
          "full-support sampler; strict row dominance for the collapse"),
    Claim("On-policy sampling is a logit (quantal-response) equilibrium of $P - \\tfrac12$: Condorcet-top above an"
          " explicit $\\beta_0(P)$, a maximal lottery in the limit, which can break Smith-top.", "book",
          ("lem-sampling-regret", "thm-sampling-condorcet", "thm-sampling-limit", "prop-sampling-trap"),
          ("fig-sampling-onpolicy",), "proved under hypotheses",
          "a Condorcet winner (for Condorcet-top); a unique maximal lottery (for the limit)"),
    Claim("A sampler learned from comparisons alone (no $P$) is Smith-top with probability at least $1 - \\delta$.",
          "book", ("lem-sampling-anytime", "prop-sampling-fixed"), ("fig-sampling-learning", "fig-sampling-data"),
          "proved under hypotheses",
          "uniform pairs with the proposition's per-pair sample size and margins at least $\\Delta$; the adaptive"
          " rule's sample size is only observed"),
    Claim("MRS-DPO also oscillates and concentrates, with thresholds that differ from IPO's.", "paper",
          ("lem-dpo-round", "cor-dpo-bt-dynamics", "lem-dpo-ordering", "thm-dpo-cycle"),
          ("fig-dpo-phase", "fig-dpo-slices", "fig-dpo-trajectories", "fig-dpo-entropy"), "proved under hypotheses",
          "Bradley–Terry $P$ for the fixed point; the 3-cycle $P_a$ for the threshold"),
    Claim("Rounds of gradient training behave as relaxed exact rounds near a fixed point.", "book",
          ("thm-trained-round", "lem-trained-unbiased", "thm-trained-jacobian", "cor-trained-uniform",
           "thm-trained-onpolicy", "prop-trained-offpolicy", "prop-trained-lag"),
          ("fig-trained-phase", "fig-trained-onset", "fig-trained-llmfao", "fig-trained-alpha-one",
           "fig-trained-entropy", "fig-trained-shared"), "proved under hypotheses",
          "tabular or shared log-linear policies, population (or unbiased sampled) gradients"),
    Claim("On real preference data the rounds oscillate on cyclic matrices and collapse on transitive ones.",
          "paper", ("prop-experiments-mixed-attributes", "prop-experiments-tie-rules", "prop-experiments-three-cycle",
                    "lem-experiments-averaging", "prop-experiments-spread", "data-arena-top10",
                    "data-llmfao-subtournaments"),
          ("fig-experiments-arena-cycle", "fig-experiments-arena-collapse", "fig-experiments-phase",
           "fig-experiments-noise"), "observed",
          "on the shipped Chatbot Arena and LLMFAO data and on the HelpSteer construction over synthetic scores"),
    Claim("The paper's HelpSteer phase diagrams (118 cyclic and 4,924 transitive matrices).", "paper", (),
          ("fig-experiments-phase",), "not reproducible offline",
          "HelpSteer is not shipped; the construction runs on a user-supplied file or synthetic scores"),
    Claim("Trained language models oscillate and collapse as the theory predicts.", "paper", (),
          ("fig-trained-arena",), "not reproducible offline",
          "needs language-model training; the book quotes the authors' numbers and reproduces the mechanism"
          " with tabular and log-linear policies"),
)


_CHECKS_SECTION = re.compile(r"^\((sec-[a-z0-9-]*checks)\)=", re.MULTILINE)


def chapter_results(executed: Iterable[Path]) -> dict[str, list[dict]]:
    """The check rows of the executed chapters (from their checks tables' output metadata), by
    result label; each row also carries ``section``, the label of its chapter's checks section."""
    by_label: dict[str, list[dict]] = {}
    for path in executed:
        nb = nbformat.read(str(path), as_version=4)
        sections = [m.group(1) for c in nb.cells if c.cell_type == "markdown" for m in _CHECKS_SECTION.finditer(c.source)]
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                rows = out.get("metadata", {}).get("text/markdown", {}).get(CHECKS_METADATA)
                for row in rows or []:
                    by_label.setdefault(row["theorem"], []).append({**row, "section": sections[0] if sections else None})
    return by_label


def checks_verdict(rows: list[dict]) -> str:
    """The verdict of some check rows (from :func:`chapter_results`) as MyST: how many pass, a ✗
    if one fails, and links to the checks sections of the chapters that ran them."""
    if not rows:
        return "no check"
    passed = sum(row["passed"] for row in rows)
    sections = sorted({(row["chapter"], row["section"]) for row in rows})
    links = ", ".join(f"{{ref}}`{c} <{sec}>`" if sec else c for c, sec in sections)
    return f"**{passed} of {len(rows)} pass**" + ("" if passed == len(rows) else " ✗") + f" ({links})"


def _result_ref(label: str) -> str:
    if label.split("-", 1)[0] in PROOF_PREFIXES:
        return f"{{prf:ref}}`{label}`"
    return f"data check `{label}`"


def fragment(executed: Iterable[Path]) -> str:
    """The claims map as MyST: one card-like table row per claim (see the module docstring)."""
    by_label = chapter_results(executed)
    lines = ["```{list-table}", ":header-rows: 1", ":class: prefalign-cards prefalign-claims", ":widths: 30 22 22 12 14", "",
             "* - Claim\n  - The book's results\n  - Checks (verdict of this build)\n  - Figures\n  - Status"]
    for claim in CLAIMS:
        results = ", ".join(_result_ref(label) for label in claim.results) or "none"
        verdict = checks_verdict([row for label in claim.results for row in by_label.get(label, [])])
        figures = ", ".join(f"{{numref}}`{f}`" for f in claim.figures) or "none"
        status = f"**{claim.status}**" + (f": {claim.qualifier}" if claim.qualifier else "")
        source = "" if claim.source == "paper" else " *(the book's addition)*"
        lines.append("* - " + "\n  - ".join([claim.text + source, results, verdict, figures, status]))
    lines += ["```", ""]
    return "\n".join(lines)
