"""Numbers reported by the paper's authors for iterative IPO/DPO with real language models.

Source: the public repository ``yuhe-zzy/LLM_Sampling`` (unreleased follow-up work to Chen, He,
Jordan and Yao 2026; it has no licence, so the book cites its facts and copies nothing else). Each
constant names the file it was read from and the commit of that file. Qwen2.5-1.5B with LoRA,
one seed, six selected prompts with four fixed responses each, unless stated otherwise.

Their conventions differ from the package's: their ``beta_train`` is the loss coefficient, so the
package's β is ``1 / beta_train`` (IPO's τ, DPO's β_TRL); in the oracle runs their ``lambda`` is the
probability of sampling from the *initial* model, so the package's on-policy share λ is
``1 - lambda``.
"""

from __future__ import annotations

REPOSITORY = "yuhe-zzy/LLM_Sampling"
MODEL = "Qwen2.5-1.5B"
"""The trained model (with LoRA). ``README.md`` (109d0fc)."""

CYCLIC_SETTING = {"alpha": 0.9, "lam": 0.8, "ipo_beta_train": 0.2, "dpo_beta_train": 0.8, "prompts": 6,
                  "forward_preference": 0.8}
"""The calibrated cyclic runs: α, on-policy share, loss coefficients, prompts, and the soft four-cycle's
forward preference (opposite pairs tie). ``experiments/cyclic_history/campaigns/README.md`` (0c603e0)."""

CALIBRATED_SIGNALS = {54: 0.56962646361746, 251: 0.5530188808133103, 612: 0.5740555320706715,
                      737: 0.5500168462924606, 867: 0.5347247929124184, 945: 0.5936766724004628}
"""Per prompt, the imaginary part σ of the eigenvalues ``0.9 ± iσ`` of the exact IPO round at its fixed point
(role-aligned cycle, measured initial reference). ``experiments/cyclic_history/calibration/2026-09-28/
calibration_report.json`` (109d0fc), key ``ipo_+1`` → ``ordinary_eigenvalues``."""

STAGE_A_IPO_ORDINARY = {"fit_error_rms": 0.31249942523370405, "intended_step_rms": 0.3330401292993498,
                        "error_to_step_ratio": 0.9383236365273478, "effective_step_fraction": 0.6138521024285665,
                        "scalar_fit_residual": 0.8123807636799363, "rounds": (21, 30)}
"""IPO ordinary arm, rounds 21–30: RMS of the error ``x_{t+1} - F(x_t)`` against the intended update
``F(x_t) - x_t``, their ratio, the least-squares ``η`` in ``actual = η · intended`` and the relative residual
of that fit. ``experiments/cyclic_history/campaigns/cyclic_history_stage_a_analysis_20260928/run_summary.csv``
(a43751d)."""

STAGE_A_DPO_ORDINARY = {"effective_step_fraction": 0.631124896862768, "scalar_fit_residual": 0.8118587297911123}
"""The same fit for the DPO ordinary arm (same file)."""

FIXED_TARGET_IPO_ORDINARY = {"normalized_error_10": 0.7139945637162559, "normalized_error_60": 1.1883846034662688}
"""Fit error to a frozen round target after 10 and 60 inner epochs, relative to the error before training
(IPO ordinary). ``experiments/cyclic_history/campaigns/cyclic_fixed_target_results_20260928/verified_summary.json``
(a43751d)."""

STAGE_B_AMPLITUDE = {"ipo_start": 1.988849125322795, "ipo_late": 0.5587800599169142,
                     "dpo_start": 1.9854504598706388, "dpo_late": 0.5745971438043691, "rounds": 100,
                     "late_window": (51, 100)}
"""Mean cyclic-mode amplitude at round 0 and averaged over rounds 51–100 of the ordinary arms (100 rounds).
``experiments/cyclic_history/campaigns/cyclic_history_stage_b100_results_20260929/run_summary.csv`` (a43751d)."""

REFERENCE90_SD = {"ipo_alpha_one": 0.22679, "dpo_alpha_one": 0.22557, "ipo_alpha_09": 0.07341, "dpo_alpha_09": 0.07566,
                  "lag": 0.9}
"""Mean temporal standard deviation of the response probabilities over rounds 51–100: α = 1 with the lagged
reference ``0.1 s_t + 0.9 s_{t-1}`` against the α = 0.9 run with reference ``0.1 s_0 + 0.45 s_t + 0.45 s_{t-1}``.
``experiments/cyclic_history/campaigns/cyclic_history_reference90_20260929/RESULTS_2026-10-03.md`` (79e5bab)."""

ORACLE_IPO_SETTING = {"their_lambda": 0.9, "beta_train": 1.0, "rounds": 80}
"""The oracle IPO runs of :data:`ORACLE_IPO_ENTROPY`: their ``lambda`` (the share of pairs sampled from the
initial model, so the on-policy share is ``1 - lambda``), loss coefficient and rounds. ``README.md`` (109d0fc), section 5."""

ORACLE_IPO_ENTROPY = {0.8: 1.2559911650107434, 0.9: 0.938655710204759, 0.95: 0.6099858715672726,
                      0.99: 0.2779144507094886}
"""Relative-sequence entropy after 80 rounds of IPO under a transitive reward-model judge, by α (their
``lambda`` = 0.9, i.e. on-policy share 0.1; ``beta_train`` = 1; 500 prompts per round).
``experiments/oracle1/campaigns/sequencesum_snapshot_20260911/oracle_parameter_summary_20260911.csv`` (a43751d)."""

ORACLE_IPO_INITIAL_ENTROPY = (1.5444795221176435, 1.565141004270547)
"""The range of the same runs' entropy at round 0 (same file)."""

STAGE_C_TV_INCREASE = {"ipo": 20.9, "dpo": 31.0, "prompts_up": 5, "prompts": 6}
"""Percent increase of the late adjacent-round total variation when the cycle's orientation is reversed on
three of the six prompts (one shared model), and on how many prompts it rose.
``experiments/cyclic_history/campaigns/README.md`` (0c603e0)."""
