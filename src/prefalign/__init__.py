"""prefalign: the helper package of the executable companion to
"How Sampling Shapes LLM Alignment: From One-Shot Optima to Iterative Dynamics"
(Chen, He, Jordan, Yao; arXiv:2602.12180, 2026).

One home for every formula the book uses. β is the strength of the preference signal relative to
the KL anchor everywhere: the implicit reward ``log(π/π_ref)`` scales with β (β = 1/τ of IPO,
β = 1/β_TRL of DPO as written in TRL).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prefalign")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
