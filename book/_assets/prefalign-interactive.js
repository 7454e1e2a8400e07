/* prefalign: interactive figures drawn from data computed by the package when the chapter ran
   (prefalign.interactive). Plain canvas, no library, served from the site (no network). */
(function () {
  "use strict";
  const SQRT3_2 = Math.sqrt(3) / 2;

  function canvas(parent, cssWidth, cssHeight) {
    const c = document.createElement("canvas");
    const ratio = window.devicePixelRatio || 1;
    c.width = Math.round(cssWidth * ratio);
    c.height = Math.round(cssHeight * ratio);
    c.style.width = cssWidth + "px";
    c.style.height = cssHeight + "px";
    parent.append(c);
    const ctx = c.getContext("2d");
    ctx.scale(ratio, ratio);
    return { c, ctx, w: cssWidth, h: cssHeight };
  }

  /* Ternary coordinates (x in [0, 1], y in [0, sqrt(3)/2]) to canvas pixels. */
  function ternary(k, pad) {
    const side = Math.min(k.w - 2 * pad, (k.h - 2 * pad) / SQRT3_2);
    const x0 = (k.w - side) / 2, y0 = k.h - pad - (k.h - 2 * pad - side * SQRT3_2) / 2;
    return (p) => [x0 + p[0] * side, y0 - p[1] * side];
  }

  function drawTriangle(k, map, labels) {
    const ctx = k.ctx;
    const corners = [[0, 0], [1, 0], [0.5, SQRT3_2]].map(map);
    ctx.strokeStyle = "#4d4d4d";
    ctx.lineWidth = 1;
    ctx.beginPath();
    corners.forEach((p, i) => (i ? ctx.lineTo(...p) : ctx.moveTo(...p)));
    ctx.closePath();
    ctx.stroke();
    ctx.fillStyle = "#222";
    ctx.font = "13px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(labels[0], corners[0][0] - 8, corners[0][1] + 14);
    ctx.fillText(labels[1], corners[1][0] + 8, corners[1][1] + 14);
    ctx.fillText(labels[2], corners[2][0], corners[2][1] - 6);
  }

  /* The policy at round `upto` (filled dot), the `tail` rounds before it (fading line), the start (open circle). */
  function drawTrajectory(k, map, xy, upto, color, tail) {
    const ctx = k.ctx;
    const start = Math.max(0, upto - tail);
    for (let t = start + 1; t <= upto; t++) {
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.15 + 0.85 * (t - start) / (upto - start + 1);
      ctx.lineWidth = 1.4;
      ctx.beginPath();
      ctx.moveTo(...map(xy[t - 1]));
      ctx.lineTo(...map(xy[t]));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    const [sx, sy] = map(xy[0]);
    ctx.strokeStyle = color;
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(sx, sy, 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    const [px, py] = map(xy[upto]);
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(px, py, 5, 0, 2 * Math.PI);
    ctx.fill();
  }

  function simplexPlayer(root, data) {
    const panels = document.createElement("div");
    panels.className = "prefalign-panels";
    root.append(panels);
    const views = data.runs.map((run) => {
      const box = document.createElement("div");
      box.className = "prefalign-panel";
      const title = document.createElement("div");
      title.className = "prefalign-panel-title";
      title.textContent = run.title;
      box.append(title);
      panels.append(box);
      const k = canvas(box, 165, 150);
      return { run, k, map: ternary(k, 16) };
    });
    const controls = document.createElement("div");
    controls.className = "prefalign-controls";
    const button = document.createElement("button");
    button.type = "button";
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = 0;
    slider.max = data.rounds;
    slider.value = 0;
    slider.setAttribute("aria-label", "round");
    const label = document.createElement("span");
    controls.append(button, slider, label);
    root.append(controls);
    let timer = null;
    function draw() {
      const t = Number(slider.value);
      label.textContent = "round " + t + " of " + data.rounds;
      views.forEach(({ run, k, map }) => {
        k.ctx.clearRect(0, 0, k.w, k.h);
        drawTriangle(k, map, data.vertices);
        drawTrajectory(k, map, run.xy, t, run.color, 40);
      });
    }
    function stop() {
      clearInterval(timer);
      timer = null;
      button.textContent = "▶ play";
    }
    button.addEventListener("click", () => {
      if (timer) return stop();
      if (Number(slider.value) >= data.rounds) slider.value = 0;
      button.textContent = "❚❚ pause";
      timer = setInterval(() => {
        slider.value = Math.min(data.rounds, Number(slider.value) + 1);
        draw();
        if (Number(slider.value) >= data.rounds) stop();
      }, 60);
    });
    slider.addEventListener("input", () => { stop(); draw(); });
    stop();
    draw();
  }

  function phaseExplorer(root, data) {
    const panels = document.createElement("div");
    panels.className = "prefalign-panels";
    root.append(panels);
    const left = document.createElement("div");
    left.className = "prefalign-panel";
    const right = document.createElement("div");
    right.className = "prefalign-panel";
    panels.append(left, right);
    const grid = canvas(left, 300, 260);
    const pad = { l: 46, r: 8, t: 8, b: 38 };
    const nx = data.x.length, ny = data.y.length;
    const cw = (grid.w - pad.l - pad.r) / nx, ch = (grid.h - pad.t - pad.b) / ny;
    const sim = canvas(right, 260, 230);
    right.style.width = "260px";
    const map = ternary(sim, 18);
    const info = document.createElement("div");
    info.className = "prefalign-panel-title";
    right.prepend(info);
    let chosen = [Math.floor(ny / 2), Math.floor(nx / 2)];

    function drawGrid() {
      const ctx = grid.ctx;
      ctx.clearRect(0, 0, grid.w, grid.h);
      for (let i = 0; i < ny; i++) {
        for (let j = 0; j < nx; j++) {
          ctx.fillStyle = data.colors[i][j];
          ctx.fillRect(pad.l + j * cw, grid.h - pad.b - (i + 1) * ch, cw + 0.5, ch + 0.5);
        }
      }
      ctx.strokeStyle = "#d62728";
      ctx.lineWidth = 2;
      ctx.strokeRect(pad.l + chosen[1] * cw, grid.h - pad.b - (chosen[0] + 1) * ch, cw, ch);
      ctx.fillStyle = "#222";
      ctx.font = "12px sans-serif";
      ctx.textAlign = "center";
      [0, Math.floor((nx - 1) / 2), nx - 1].forEach((j) => ctx.fillText(String(data.x[j]), pad.l + (j + 0.5) * cw, grid.h - pad.b + 14));
      ctx.fillText(data.x_label, pad.l + (grid.w - pad.l - pad.r) / 2, grid.h - 6);
      ctx.textAlign = "right";
      [0, Math.floor((ny - 1) / 2), ny - 1].forEach((i) => ctx.fillText(String(data.y[i]), pad.l - 4, grid.h - pad.b - (i + 0.5) * ch + 4));
      ctx.save();
      ctx.translate(12, pad.t + (grid.h - pad.t - pad.b) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText(data.y_label, 0, 0);
      ctx.restore();
    }
    function drawRun() {
      const [i, j] = chosen;
      info.textContent = data.x_label + " = " + data.x[j] + ", " + data.y_label + " = " + data.y[i] + ": " +
        data.value_label + " " + data.values[i][j] + " (start and last " + data.tail + " rounds)";
      sim.ctx.clearRect(0, 0, sim.w, sim.h);
      drawTriangle(sim, map, data.vertices);
      const xy = data.trajectories[i][j];
      drawTrajectory(sim, map, xy, xy.length - 1, "#0173b2", data.tail - 1);
    }
    function choose(i, j) {
      chosen = [Math.max(0, Math.min(ny - 1, i)), Math.max(0, Math.min(nx - 1, j))];
      drawGrid();
      drawRun();
    }
    grid.c.tabIndex = 0;
    grid.c.setAttribute("role", "application");
    grid.c.setAttribute("aria-label", "Phase diagram: click a cell, or use the arrow keys, to show its trajectory");
    grid.c.style.cursor = "crosshair";
    grid.c.addEventListener("click", (e) => {
      const r = grid.c.getBoundingClientRect();
      const s = grid.w / r.width;  /* the canvas may be shown narrower than drawn */
      const j = Math.floor(((e.clientX - r.left) * s - pad.l) / cw);
      const i = Math.floor((grid.h - pad.b - (e.clientY - r.top) * s) / ch);
      if (j >= 0 && j < nx && i >= 0 && i < ny) choose(i, j);
    });
    grid.c.addEventListener("keydown", (e) => {
      const step = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [1, 0], ArrowDown: [-1, 0] }[e.key];
      if (step) { e.preventDefault(); choose(chosen[0] + step[0], chosen[1] + step[1]); }
    });
    choose(...chosen);
  }

  const KINDS = { "simplex-player": simplexPlayer, "phase-explorer": phaseExplorer };

  function start() {
    document.querySelectorAll(".prefalign-interactive").forEach((root) => {
      const draw = KINDS[root.dataset.kind];
      const script = root.querySelector("script[type='application/json']");
      if (!draw || !script || root.dataset.ready) return;
      root.dataset.ready = "1";
      const fallback = root.querySelector(".prefalign-interactive-fallback");
      if (fallback) fallback.remove();
      draw(root, JSON.parse(script.textContent));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
