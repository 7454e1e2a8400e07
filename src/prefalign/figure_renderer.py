"""MyST-NB mime renderer: figures that carry a phone edition are shown in two sizes.

A figure glued by :func:`prefalign.notebook.glue_figure` has its phone edition
(:mod:`prefalign.phone_figure`) in its output metadata. For the HTML builders this renderer turns
it into two images of the same figure, with the same options (alt text, ...): the figure as made
(class ``prefalign-wide``) and its phone edition (class ``prefalign-phone``); the book's style
sheet shows the one that fits the screen. Other builders (the PDF) and other outputs get
MyST-NB's own rendering. Registered under the entry point group ``myst_nb.mime_renderers``
(``pyproject.toml``).
"""

from __future__ import annotations

import dataclasses

from docutils import nodes
from myst_nb._compat import get_env_app
from myst_nb.core.render import MimeData, NbElementRenderer

from prefalign.phone_figure import METADATA_KEY

HTML_FORMAT = "html"


class PhoneFigures:
    """The ``myst_nb.mime_renderers`` plugin (see ``myst_nb.core.render.MimeRenderPlugin``)."""

    mime_priority_overrides = ()

    @staticmethod
    def handle_mime(renderer: NbElementRenderer, data: MimeData, inline: bool) -> list[nodes.Element] | None:
        phone = data.output_metadata.get(METADATA_KEY)
        if inline or data.mime_type != "image/png" or not phone or not _html(renderer):
            return None
        wide = renderer.render_image(data)
        size = {"image/png": {"width": phone["width"], "height": phone["height"]}}
        small = renderer.render_image(dataclasses.replace(data, content=phone["png"], output_metadata=size))
        for node, cls in ((wide[0], "prefalign-wide"), (small[0], "prefalign-phone")):
            node["classes"].append(cls)
        return wide + small


def _html(renderer: NbElementRenderer) -> bool:
    env = renderer.renderer.sphinx_env
    return env is not None and get_env_app(env).builder.format == HTML_FORMAT
