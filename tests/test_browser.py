"""Every page of the built book in real headless Chromium (Debian's package, driven by Playwright).

Served from a local HTTP server. On every page, at desktop (1280 px) and phone (390 px) width:
MathJax rendered (no raw TeX visible, no ``mjx-merror``), every image loaded, every figure image
with alt text, no request leaving the site, no console error beyond a short allow-list of known
theme messages, no horizontal overflow on the phone. Figures: at both widths every figure shows one
image (its edition as drawn, or on the phone its phone edition), whose smallest labels show at
9 px or more (the image's rendered width against its design width, the 2× PNG's half); on the
phone a figure zooms on a click to its design size. On the phone no element of
the text column is wider than its box unless it scrolls and says so (the ``prefalign-scrolls``
cue: code and wide tables), and no display equation is wider than the column at all (long
displays are broken to fit). Every internal link resolves (file and anchor). Screenshots go to ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT
from prefalign.plotting import CSS_PX_PER_INCH, FONT_PT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ALLOWED_CONSOLE_ERRORS = ("Got invalid theme mode",)  # pydata-sphinx-theme, before its theme mode is stored
WIDTHS = {"desktop": 1280, "phone": 390}
SCREENSHOTS = ROOT / "_build" / "screenshots"
SMALLEST_LABEL_PX = FONT_PT * 5 / 6 * CSS_PX_PER_INCH / 72  # "small" text at the design size
MIN_LABEL_PX = 9.0

# The figure images shown at the current width (each figure has its edition as drawn and its phone
# edition; CSS shows one; the landing page's abstract is two figures, one shown), and the figures
# that show not exactly one image.
FIGURES_JS = """() => {
  const shown = i => i.getClientRects().length > 0;
  const figures = [...document.querySelectorAll('.bd-article figure')].filter(f => f.querySelector('img') && shown(f));
  return {
    images: figures.flatMap(f => [...f.querySelectorAll('img')].filter(shown)).map(i => ({
      src: i.src.split('/').pop(), shown: i.getBoundingClientRect().width, design: i.naturalWidth / 2,
      zoomable: i.classList.contains('prefalign-zoomable')})),
    notOne: figures.filter(f => [...f.querySelectorAll('img')].filter(shown).length !== 1).map(f => f.id),
  };
}"""

# Elements of the text column wider than their box: those that scroll must carry the cue; those
# that do not scroll are cut or spill out of the column.
OVERFLOW_JS = """() => {
  const article = document.querySelector('.bd-article');
  if (!article) return [];
  const right = article.getBoundingClientRect().right;
  const out = [];
  for (const el of article.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (el.closest('.prefalign-scrolls, mjx-assistive-mml') || style.display === 'none') continue;
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    const name = el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + el.className.split(' ')[0] : '');
    if (scrolls && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
      out.push(`${name} scrolls ${el.scrollWidth - el.clientWidth}px without a cue`);
    else if (!scrolls && !el.closest('[style*=overflow], .table-wrapper, .highlight, div.math, mjx-container')
             && el.getBoundingClientRect().right > right + 1)
      out.push(`${name} spills ${Math.round(el.getBoundingClientRect().right - right)}px out of the column`);
  }
  return out;
}"""

# Display equations wider than the column on the phone: long displays are broken by hand to fit.
WIDE_EQUATIONS_JS = """() => [...document.querySelectorAll('.bd-article mjx-container[display="true"]')]
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => `${(e.closest('div.math') || e).id || e.textContent.slice(0, 40)} is ${e.scrollWidth - e.clientWidth}px too wide`)"""

VISIBLE_TEXT_JS = """() => {
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'MJX-CONTAINER', 'TEXTAREA']);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    let el = node.parentElement, hidden = false;
    for (let e = el; e; e = e.parentElement) { if (skip.has(e.tagName)) { hidden = true; break; } }
    if (hidden || !el.getClientRects().length) continue;
    out.push(node.textContent);
  }
  return out.join(' ');
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(built_book):
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield built_book, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def _pages(html_dir: Path) -> list[str]:
    """Every content page (the root index.html is only a redirect to book/intro.html)."""
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                  if p != html_dir / "index.html" and not p.relative_to(html_dir).as_posix().startswith("_"))


def _figure_problems(rel: str, width: str, figures: dict) -> list[str]:
    """Figures at ``width`` that show other than one image, labels under :data:`MIN_LABEL_PX`
    (the figure's rendered width against its design width), or no click-to-zoom."""
    problems = [f"{rel}: figure {f} shows other than one image at {WIDTHS[width]}px" for f in figures["notOne"]]
    for fig in figures["images"]:
        label = SMALLEST_LABEL_PX * fig["shown"] / fig["design"]
        if label < MIN_LABEL_PX:
            problems.append(f"{rel}: {fig['src']} labels show at {label:.1f}px at {WIDTHS[width]}px (< {MIN_LABEL_PX})")
        if not fig["zoomable"]:
            problems.append(f"{rel}: {fig['src']} does not zoom on a click")
    return problems


def test_root_redirects_to_the_intro(built_book):
    assert 'url=book/intro.html' in (built_book / "index.html").read_text()


def test_internal_links_resolve(built_book):
    ids: dict[Path, set[str]] = {}

    def anchors(path: Path) -> set[str]:
        if path not in ids:
            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids[path] = {el["id"] for el in soup.find_all(id=True)} | {el["name"] for el in soup.find_all("a", attrs={"name": True})}
        return ids[path]

    broken = []
    for page in built_book.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=True):
            href = a["href"]
            parsed = urlparse(href)
            if parsed.scheme or href.startswith(("//", "mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(built_book)}: {href} (missing file)")
            elif parsed.fragment and target.suffix == ".html" and parsed.fragment not in anchors(target):
                broken.append(f"{page.relative_to(built_book)}: {href} (missing anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:30])


def test_every_page_renders_offline(site, browser):
    """Each page is loaded once at desktop width, checked and photographed, then narrowed to a phone."""
    html_dir, base = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    pages = _pages(html_dir)
    assert len(pages) >= 5
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    for rel in pages:
        page = context.new_page()
        console, external, failed = [], [], []
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("favicon.ico") else None)
        page.goto(urljoin(base, rel), wait_until="load")
        if page.evaluate("() => !!document.querySelector('.math')"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
            page.evaluate("() => MathJax.startup.promise")
        page.wait_for_timeout(200)
        n_math = page.locator(".math").count()
        n_rendered = page.locator("mjx-container").count()
        if n_rendered < n_math:
            problems.append(f"{rel}: {n_math} math elements but {n_rendered} rendered by MathJax")
        if page.locator("mjx-merror").count():
            problems.append(f"{rel}: MathJax errors")
        text = page.evaluate(VISIBLE_TEXT_JS)
        for raw in ("$$", "\\frac", "\\(", "\\[", "\\begin{", "\\mathrm", "\\pi"):
            if raw in text:
                i = text.find(raw)
                problems.append(f"{rel}: raw TeX {raw!r} visible: ...{text[max(0, i - 60):i + 60]}...")
        for img in page.evaluate("() => [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0, alt: i.alt, fig: !!i.closest('figure')}))"):
            if not img["ok"]:
                problems.append(f"{rel}: image did not load: {img['src']}")
            if img["fig"] and len(img["alt"].strip()) < 20:
                problems.append(f"{rel}: figure image without alt text: {img['src']}")
        problems += _figure_problems(rel, "desktop", page.evaluate(FIGURES_JS))
        name = rel.replace("/", "__")[:-5]
        page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
        page.wait_for_timeout(300)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"{rel}: page is {overflow}px wider than a {WIDTHS['phone']}px screen")
        problems += [f"{rel} at {WIDTHS['phone']}px: {p}" for p in page.evaluate(OVERFLOW_JS)[:10]]
        problems += [f"{rel} at {WIDTHS['phone']}px: equation {p}" for p in page.evaluate(WIDE_EQUATIONS_JS)]
        problems += _figure_problems(rel, "phone", page.evaluate(FIGURES_JS))
        if page.locator(".bd-article figure img:visible").count():
            page.locator(".bd-article figure img:visible").first.click()
            zoomed = page.evaluate("() => { const i = document.querySelector('.prefalign-zoom img');"
                                   " return i && i.getBoundingClientRect().width / (i.naturalWidth / 2); }")
            if not zoomed or zoomed < 0.999:
                problems.append(f"{rel}: a click on a figure does not show it at its design size on a phone ({zoomed})")
            page.keyboard.press("Escape")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
        bad_console = [c for c in console if not any(a in c for a in ALLOWED_CONSOLE_ERRORS) and "favicon.ico" not in c]
        if bad_console:
            problems.append(f"{rel}: console errors {bad_console}")
        if external:
            problems.append(f"{rel}: requests leaving the site {external}")
        if failed:
            problems.append(f"{rel}: failed requests {failed}")
        page.close()
    context.close()
    assert not problems, "\n".join(problems)
