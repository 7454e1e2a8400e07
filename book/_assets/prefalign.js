/* prefalign: click-to-zoom figures and a visible cue on displays wider than the text column.
   Served from the site itself (no network). */
(function () {
  "use strict";

  function closeZoom(overlay) {
    overlay.remove();
    document.body.classList.remove("prefalign-zoom-open");
  }

  function openZoom(img) {
    const overlay = document.createElement("div");
    overlay.className = "prefalign-zoom";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Zoomed figure (click or press Escape to close)");
    const big = document.createElement("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    /* Figures are 2x PNGs: show them at their design size (half their pixels), at least. */
    const design = Math.round(img.naturalWidth / 2);
    big.style.width = Math.max(design, Math.min(img.naturalWidth, window.innerWidth - 32)) + "px";
    const hint = document.createElement("div");
    hint.className = "prefalign-zoom-hint";
    hint.textContent = "Click or press Esc to close";
    overlay.append(hint, big);
    overlay.addEventListener("click", () => closeZoom(overlay));
    document.body.append(overlay);
    document.body.classList.add("prefalign-zoom-open");
    overlay.tabIndex = -1;
    overlay.focus();
  }

  function setUpZoom() {
    document.querySelectorAll(".bd-article figure img, .bd-article .cell_output img").forEach((img) => {
      img.classList.add("prefalign-zoomable");
      img.title = "Click to zoom";
      img.tabIndex = 0;
      /* Sphinx wraps a scaled image in a link to the file: zoom in place instead of leaving the page. */
      img.addEventListener("click", (e) => { e.preventDefault(); openZoom(img); });
      img.addEventListener("keydown", (e) => { if (e.key === "Enter") openZoom(img); });
    });
    document.addEventListener("keydown", (e) => {
      const overlay = document.querySelector(".prefalign-zoom");
      if (overlay && e.key === "Escape") closeZoom(overlay);
    });
  }

  const SCROLLERS = ".bd-article mjx-container[display='true'], .bd-article div.math, .bd-article div.cell_input pre, " +
    ".bd-article div.highlight pre, .bd-article .cell_output table, .bd-article table.prefalign-provenance, .bd-article .table-wrapper, " +
    ".bd-article .pst-scrollable-table-container";

  /* Mark every display that is wider than its box, so CSS can show a scroll cue. */
  function markOverflow() {
    document.querySelectorAll(SCROLLERS).forEach((el) => {
      const wide = el.scrollWidth > el.clientWidth + 1;
      el.classList.toggle("prefalign-scrolls", wide);
      if (wide && !el.hasAttribute("tabindex")) el.tabIndex = 0;
      if (wide) el.setAttribute("title", "Wider than the column: scroll sideways");
    });
  }

  function start() {
    setUpZoom();
    markOverflow();
    window.addEventListener("resize", markOverflow);
    window.addEventListener("load", () => {
      markOverflow();
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(markOverflow);
    });
    document.querySelectorAll(".bd-article img").forEach((img) => img.addEventListener("load", markOverflow));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
