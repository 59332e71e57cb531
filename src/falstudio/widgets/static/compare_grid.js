// The compare grid: every tile drawn here from the model's compact state (axes, one small dict per tile).
// Pictures arrive once each as binary buffers of a "pictures" message (never in the widget state); changed
// tiles arrive as "tiles" messages between the milestones at which Python sets the whole state again.
// Off-screen tiles are neither laid out nor painted (content-visibility) and their images load lazily.

const SORTS = [
  ["grid", "X/Y grid"], ["index", "Variation #"], ["cost", "Cost"], ["latency", "Latency"],
  ["state", "State"], ["favourites", "Favourites first"],
];
const SHOWS = [["all", "All"], ["favourites", "Favourites"], ["failed", "Failed"], ["done", "Done"]];
const LAZY_ABOVE = 48; // larger grids load a picture once it nears the viewport
const ANSWER_MS = 4000; // a view whose hello gets no answer by then has no kernel behind it
const LIVE_CLASS = "fs-live"; // _reader_view.LIVE_CLASS: its output's reader view hides next to it
const FILLING_MS = 200; // while results stream in, the grid is laid out at most 5 times a second (not per message)
const STATE_ORDER = { failed: 0, cancelled: 1, running: 2, queued: 3, submitting: 4, pending: 5, done: 6 };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function select(label, options, value, onChange) {
  const wrap = el("label", "fs-cgrid-control");
  wrap.append(el("span", "", label));
  const box = document.createElement("select");
  for (const [v, text] of options) box.append(new Option(text, v, false, v === value));
  box.addEventListener("change", () => onChange(box.value));
  wrap.append(box);
  return wrap;
}

function render({ model, el: host }) {
  const started = performance.now();
  const root = el("section", "fs-cgrid");
  root.setAttribute("aria-label", "Compare grid");
  const toolbar = el("div", "fs-cgrid-toolbar");
  const status = el("div", "fs-cgrid-status");
  status.setAttribute("role", "status");
  const grid = el("div", "fs-cgrid-grid");
  grid.setAttribute("role", "grid");
  grid.setAttribute("aria-label", "Variations: arrow keys move, Enter enlarges, F marks a favourite");
  root.append(toolbar, status, grid);
  host.append(root);
  // Arrow keys and letters belong to the focused tile, not to the notebook's command-mode shortcuts.
  root.addEventListener("focusin", (event) => event.target.setAttribute("data-lm-suppress-shortcuts", "true"));

  const tiles = new Map(); // index -> { data, node, img, sig, url, mime }
  let states = model.get("tiles");
  let page = 0;
  let focused = 0;
  let shownOrder = "";
  let frame = 0;
  let laidOutAt = -Infinity;
  let painted = false;

  function stateOf(i) {
    return states[i];
  }

  function tileEntry(i) {
    let entry = tiles.get(i);
    if (entry) return entry;
    const node = el("div", "fs-cgrid-tile");
    node.setAttribute("role", "gridcell");
    node.tabIndex = -1;
    node.dataset.variation = String(i);
    const frameBox = el("div", "fs-cgrid-frame");
    const img = document.createElement("img");
    img.loading = states.length > LAZY_ABOVE ? "lazy" : "eager";
    img.decoding = "async";
    frameBox.append(img);
    const placeholder = el("div", "fs-cgrid-placeholder");
    frameBox.append(placeholder);
    const title = el("div", "fs-cgrid-title");
    const details = el("div", "fs-cgrid-details");
    const actions = el("div", "fs-cgrid-actions");
    const enlarge = el("button", "fs-cgrid-button", "Enlarge");
    enlarge.type = "button";
    enlarge.tabIndex = -1;
    const star = el("button", "fs-cgrid-button", "☆ Favourite");
    star.type = "button";
    star.tabIndex = -1;
    actions.append(enlarge, star);
    node.append(frameBox, title, details, actions);
    enlarge.addEventListener("click", (event) => { event.stopPropagation(); enlargeTile(i); });
    star.addEventListener("click", (event) => { event.stopPropagation(); toggleFavourite(i); });
    frameBox.addEventListener("click", () => { focusTile(i); enlargeTile(i); });
    node.addEventListener("keydown", (event) => onKey(event, i));
    node.addEventListener("focus", () => { focused = i; });
    entry = { node, img, placeholder, title, details, enlarge, star, sig: "", url: null, mime: "" };
    tiles.set(i, entry);
    return entry;
  }

  function paintTile(i) {
    const data = stateOf(i);
    const entry = tileEntry(i);
    const sig = JSON.stringify(data) + (entry.url || "");
    if (sig === entry.sig) return entry;
    entry.sig = sig;
    const { node, img, placeholder, title, details, enlarge, star } = entry;
    node.dataset.state = data.s;
    node.classList.toggle("fs-cgrid-favourite", data.fav);
    title.textContent = `#${data.i}${data.fav ? " ★" : ""} · ${data.st}`;
    details.replaceChildren();
    for (const [label, value] of data.cap) {
      const row = el("div");
      row.append(el("span", "fs-cgrid-label", `${label}: `), document.createTextNode(value));
      details.append(row);
    }
    if (data.err) details.append(el("div", "fs-cgrid-error", `Error: ${data.err}`));
    if (entry.url && data.pic) {
      img.src = entry.url;
      img.alt = data.pic === 1 ? `${data.alt} (forming)` : data.alt;
      img.hidden = false;
      placeholder.hidden = true;
    } else {
      img.hidden = true;
      img.removeAttribute("src");
      placeholder.hidden = false;
      placeholder.textContent = data.s === "done" && data.pic === 0 && !data.err ? "Loading the image…"
        : { pending: "Waiting to start", failed: "No image: the request failed", cancelled: "Cancelled" }[data.s]
        || (data.s === "done" ? "No image returned" : "…");
    }
    enlarge.disabled = data.pic !== 2;
    star.textContent = data.fav ? "★ Favourite" : "☆ Favourite";
    star.setAttribute("aria-pressed", String(data.fav));
    node.setAttribute("aria-label", `#${data.i}${data.fav ? ", favourite" : ""}: ${data.cap.map((r) => r.join(": ")).join("; ")}`);
    return entry;
  }

  function axisIndex(name) {
    return model.get("axes").findIndex((a) => a.name === name);
  }

  function pageAxes() {
    const x = model.get("x_axis");
    const y = model.get("y_axis");
    return model.get("axes").filter((a) => a.name !== x && a.name !== y);
  }

  function pages() {
    let combos = [[]];
    for (const axis of pageAxes()) {
      combos = combos.flatMap((c) => axis.values.map((v) => [...c, [axis.name, v]]));
    }
    return combos;
  }

  function visible() {
    const show = model.get("show");
    const only = model.get("only");
    const axes = model.get("axes");
    return states.filter((t) => {
      if (show === "favourites" && !t.fav) return false;
      if (show === "failed" && t.s !== "failed") return false;
      if (show === "done" && t.s !== "done") return false;
      return axes.every((a, k) => !(a.name in only) || only[a.name] === t.v[k]);
    });
  }

  function sorted(list) {
    const sort = model.get("sort");
    const key = {
      cost: (t) => (t.cost === null ? Infinity : t.cost),
      latency: (t) => (t.lat === null ? Infinity : t.lat),
      state: (t) => STATE_ORDER[t.s] ?? 9,
      favourites: (t) => (t.fav ? 0 : 1),
    }[sort];
    return key ? [...list].sort((a, b) => key(a) - key(b) || a.i - b.i) : list;
  }

  function layout() {
    frame = 0;
    laidOutAt = performance.now();
    const axes = model.get("axes");
    const xyMode = model.get("sort") === "grid" && axes.length > 0 && model.get("x_axis");
    root.classList.toggle("fs-cgrid-compact", model.get("compact"));
    root.style.setProperty("--fs-tile", `${model.get("compact") ? 128 : model.get("tile_px")}px`);
    let shown = visible();
    const children = [];
    const allPages = pages();
    page = Math.min(page, allPages.length - 1);
    if (xyMode) {
      const x = model.get("x_axis");
      const y = model.get("y_axis");
      const xi = axisIndex(x);
      const yi = axisIndex(y);
      const xs = axes[xi].values;
      const ys = yi >= 0 ? axes[yi].values : [""];
      const current = allPages[page] || [];
      shown = shown.filter((t) => current.every(([name, v]) => t.v[axisIndex(name)] === v));
      const widest = model.get("compact") ? "var(--fs-tile)" : "384px"; // a few columns never stretch tiles
      grid.style.gridTemplateColumns = `${yi >= 0 ? "minmax(5em, max-content) " : ""}repeat(${xs.length}, minmax(var(--fs-tile), ${widest}))`;
      if (yi >= 0) children.push(el("div", "fs-cgrid-head"));
      xs.forEach((v) => {
        const head = el("div", "fs-cgrid-head", `${x}: ${v}`);
        head.setAttribute("role", "columnheader");
        children.push(head);
      });
      const at = new Map(shown.map((t) => [`${yi >= 0 ? t.v[yi] : ""}\u0000${t.v[xi]}`, t]));
      for (const yv of ys) {
        if (yi >= 0) {
          const head = el("div", "fs-cgrid-head", `${y}: ${yv}`);
          head.setAttribute("role", "rowheader");
          children.push(head);
        }
        for (const xv of xs) {
          const t = at.get(`${yv}\u0000${xv}`);
          children.push(t ? paintTile(t.i).node : el("div", "fs-cgrid-empty"));
        }
      }
      shown = children.filter((c) => c.dataset && c.dataset.variation).map((c) => stateOf(Number(c.dataset.variation)));
    } else {
      shown = sorted(shown);
      const columns = model.get("columns");
      grid.style.gridTemplateColumns = columns > 0 ? `repeat(${columns}, minmax(0, 1fr))`
        : "repeat(auto-fill, minmax(var(--fs-tile), 1fr))";
      for (const t of shown) children.push(paintTile(t.i).node);
    }
    const order = `${xyMode}|${page}|${children.map((c) => c.dataset.variation ?? "-").join(",")}`;
    if (order !== shownOrder) {
      shownOrder = order;
      grid.replaceChildren(...children);
    }
    for (const t of shown) paintTile(t.i);
    const ids = shown.map((t) => t.i);
    const keep = ids.includes(focused) ? focused : ids[0];
    for (const [i, entry] of tiles) entry.node.tabIndex = i === keep ? 0 : -1;
    const favs = states.filter((t) => t.fav).length; // the states are counted in the line above the grid
    status.textContent = `${shown.length} of ${states.length} shown · ${favs} favourite${favs === 1 ? "" : "s"}`;
    drawToolbar(allPages);
    if (!painted) {
      painted = true;
      requestAnimationFrame(() => requestAnimationFrame(() => {
        root.dataset.firstPaintMs = String(Math.round(performance.now() - started));
      }));
    }
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(layout);
  }

  // A result arriving: laid out with the others of the next FILLING_MS (each layout restyles every tile on the
  // page, and hundreds of results arrive a few milliseconds apart); what a person does is drawn at the next frame.
  let filling = 0;
  function scheduleResult() {
    if (frame || filling) return;
    const wait = laidOutAt + FILLING_MS - performance.now();
    if (wait <= 0) schedule();
    else filling = setTimeout(() => { filling = 0; schedule(); }, wait);
  }

  let toolbarSig = "";
  function drawToolbar(allPages) {
    const axes = model.get("axes");
    const sig = JSON.stringify([axes, allPages.length, page, ["compact", "columns", "show", "only", "sort", "x_axis", "y_axis"].map((k) => model.get(k))]);
    if (sig === toolbarSig) return;
    toolbarSig = sig;
    const set = (key, value) => { model.set(key, value); model.save_changes(); };
    const compact = el("label", "fs-cgrid-control");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = model.get("compact");
    box.addEventListener("change", () => set("compact", box.checked));
    compact.append(box, el("span", "", "Compact"));
    const controls = [compact, select("Sort", SORTS, model.get("sort"), (v) => set("sort", v))];
    const names = axes.map((a) => [a.name, a.name]);
    if (model.get("sort") === "grid" && axes.length) {
      controls.push(select("X", names, model.get("x_axis"), (v) => {
        model.set("y_axis", model.get("y_axis") === v ? model.get("x_axis") : model.get("y_axis"));
        set("x_axis", v);
      }));
      controls.push(select("Y", [["", "none"], ...names], model.get("y_axis"), (v) => {
        model.set("x_axis", model.get("x_axis") === v ? model.get("y_axis") || axes.find((a) => a.name !== v).name : model.get("x_axis"));
        set("y_axis", v);
      }));
      if (allPages.length > 1) {
        const labels = allPages.map((c, k) => [String(k), c.map(([n, v]) => `${n}: ${v}`).join(" · ")]);
        controls.push(select("Page", labels, String(page), (v) => { page = Number(v); toolbarSig = ""; schedule(); }));
      }
    } else {
      const columns = [["0", "Fit"], ...[1, 2, 3, 4, 5, 6, 8, 10, 12].map((n) => [String(n), String(n)])];
      controls.push(select("Columns", columns, String(model.get("columns")), (v) => set("columns", Number(v))));
    }
    controls.push(select("Show", SHOWS, model.get("show"), (v) => set("show", v)));
    for (const axis of axes) {
      const only = model.get("only");
      const options = [["\u0000", "any"], ...axis.values.map((v) => [v, v])];
      controls.push(select(axis.name, options, only[axis.name] ?? "\u0000", (v) => {
        const next = { ...model.get("only") };
        if (v === "\u0000") delete next[axis.name]; else next[axis.name] = v;
        set("only", next);
      }));
    }
    toolbar.replaceChildren(...controls);
  }

  function focusTile(i) {
    const entry = tiles.get(i);
    if (!entry) return;
    for (const other of tiles.values()) other.node.tabIndex = -1;
    entry.node.tabIndex = 0;
    focused = i;
    entry.node.focus();
  }

  function neighbour(i, key) {
    const nodes = Array.from(grid.querySelectorAll(".fs-cgrid-tile"));
    const from = tiles.get(i).node;
    const at = nodes.indexOf(from);
    if (key === "ArrowRight" || key === "ArrowLeft") {
      const next = nodes[at + (key === "ArrowRight" ? 1 : -1)];
      return next && Number(next.dataset.variation);
    }
    const box = from.getBoundingClientRect();
    let best = null;
    let bestScore = Infinity;
    for (const node of nodes) {
      const r = node.getBoundingClientRect();
      const dy = key === "ArrowDown" ? r.top - box.top : box.top - r.top;
      if (dy < 4) continue;
      const score = dy * 1000 + Math.abs(r.left - box.left);
      if (score < bestScore) { bestScore = score; best = node; }
    }
    return best && Number(best.dataset.variation);
  }

  function onKey(event, i) {
    if (event.target !== tiles.get(i).node) return;
    let handled = true;
    if (event.key.startsWith("Arrow")) {
      const next = neighbour(i, event.key);
      if (next !== undefined && next !== null) focusTile(next);
    } else if (event.key === "Enter") {
      enlargeTile(i);
    } else if (event.key === "f" || event.key === "F") {
      toggleFavourite(i);
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  function enlargeTile(i) {
    if (stateOf(i).pic === 2) model.send({ event: "enlarge", i });
  }

  function toggleFavourite(i) {
    const on = !stateOf(i).fav;
    states = states.map((t) => (t.i === i ? { ...t, fav: on } : t)); // at once; Python confirms
    model.send({ event: "favourite", i, on });
    schedule();
  }

  // A view that gets no pictures (a notebook reopened without its kernel draws the live view from the saved
  // widget state, which holds none) steps aside the way a live view that never drew does (_reader_view.py):
  // its output loses the live mark, so the reader view beside it, every picture inline, shows instead. The
  // kernel answers the hello below, even with no picture; an answer that comes late brings the live view back.
  let answered = false;
  let steppedAside = null;
  let looks = 0;
  const stepAsideUnlessAnswered = () => {
    if (answered || !states.some((t) => t.pic)) return;
    const live = host.closest(`.${LIVE_CLASS}`);
    if (!live) {
      // Not placed in its output yet: a loaded page may draw a view some time before it puts it in place.
      if (++looks < 120) noAnswer = setTimeout(stepAsideUnlessAnswered, 500);
      return;
    }
    live.classList.remove(LIVE_CLASS);
    steppedAside = live;
    root.dataset.steppedAside = "true";
    status.textContent = "The pictures come from the kernel: run this cell again to see them here.";
  };
  let noAnswer = setTimeout(stepAsideUnlessAnswered, ANSWER_MS);

  model.on("msg:custom", (msg, buffers) => {
    answered = true;
    if (steppedAside) {
      steppedAside.classList.add(LIVE_CLASS);
      steppedAside = null;
      delete root.dataset.steppedAside;
      schedule(); // the status line says what is shown again
    }
    if (msg.event === "tiles") {
      states = [...states];
      for (const t of msg.tiles) if (t.i < states.length) states[t.i] = t;
    } else if (msg.event === "pictures") {
      msg.items.forEach((item, k) => {
        const entry = tileEntry(item.i);
        if (entry.url) URL.revokeObjectURL(entry.url);
        entry.url = URL.createObjectURL(new Blob([buffers[k]], { type: item.mime }));
      });
    } else if (msg.event === "error") {
      status.textContent = msg.text;
      return;
    }
    scheduleResult();
  });
  model.on("change:tiles", () => {
    const next = model.get("tiles");
    if (next.length !== states.length) {
      for (const entry of tiles.values()) if (entry.url) URL.revokeObjectURL(entry.url);
      tiles.clear();
      shownOrder = "";
    }
    states = next;
    scheduleResult();
  });
  for (const key of ["axes", "x_axis", "y_axis", "compact", "columns", "show", "only", "sort", "tile_px"]) {
    model.on(`change:${key}`, schedule);
  }
  layout();
  model.send({ event: "hello" }); // the pictures already made come in one message

  // Notebook 7 marks an output taller than ~1,800 px "scrolled" (a 312 px box) whenever any cell's outputs
  // change, unless the cell's metadata says otherwise, which a widget cannot set: the grid keeps its height
  // until the reader toggles scrolling themselves (a click on the output's prompt, or a menu): theirs to keep.
  const observers = [];
  let askedAt = -Infinity;
  const asked = (event) => {
    if (event.target instanceof Element && event.target.closest(".jp-OutputArea-promptOverlay, .lm-Menu")) {
      askedAt = performance.now();
    }
  };
  requestAnimationFrame(() => {
    const cell = host.closest(".jp-Cell");
    if (!cell || document.body.dataset.notebook !== "notebooks") return; // JupyterLab scrolls only when asked
    document.addEventListener("pointerdown", asked, true);
    const observer = new MutationObserver(() => {
      if (!cell.classList.contains("jp-mod-outputsScrolled")) return;
      if (performance.now() - askedAt < 2000) observer.disconnect(); // the reader's choice
      else cell.classList.remove("jp-mod-outputsScrolled");
    });
    observer.observe(cell, { attributes: true, attributeFilter: ["class"] });
    observers.push(observer);
    cell.classList.remove("jp-mod-outputsScrolled");
  });

  return () => {
    clearTimeout(noAnswer);
    clearTimeout(filling);
    document.removeEventListener("pointerdown", asked, true);
    for (const observer of observers) observer.disconnect();
    for (const entry of tiles.values()) if (entry.url) URL.revokeObjectURL(entry.url);
  };
}

export default { render };
