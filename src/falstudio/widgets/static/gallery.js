// The gallery: a grid of thumbnail buttons with captions. Each tile is a separate data model (its
// thumbnail travels once, when it is added); this module is sent once per gallery. The full image is
// never in any state: Enlarge asks Python, which answers with one message carrying the bytes.
// The first `lead` tiles (the Studio's current result) are shown large, above the others; `compact` shows the
// others as one row of small thumbnails, the prompt on hover. A tile still `forming` (a partial image) has no
// Save or "Use as edit input": it is not a result.

const PREFIX = "anywidget:";

function blobUrl(view, mime) {
  return URL.createObjectURL(new Blob([view], { type: mime }));
}

function button(text, tooltip, className = "fs-gallery-action") {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  b.title = tooltip;
  return b;
}

async function tileModel(ref, model, host) {
  if (host && typeof host.getModel === "function") return host.getModel(ref);
  return model.widget_manager.get_model(ref.slice(PREFIX.length)); // anywidget < 0.11
}

function render({ model, el, host }) {
  const root = document.createElement("section");
  root.className = "fs-gallery";
  const heading = document.createElement("div");
  heading.className = "fs-gallery-heading";
  const stage = document.createElement("div");
  stage.className = "fs-gallery-stage";
  stage.setAttribute("role", "list");
  const grid = document.createElement("div");
  grid.className = "fs-gallery-grid";
  grid.setAttribute("role", "list");
  const status = document.createElement("div");
  status.className = "fs-gallery-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  const dialog = document.createElement("dialog");
  dialog.className = "fs-gallery-dialog";
  const full = document.createElement("img");
  const dialogCaption = document.createElement("p");
  const close = button("Close", "Close the enlarged view (Escape)");
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => event.stopPropagation()); // keep Lab's shortcuts out
  dialog.append(full, dialogCaption, close);
  root.append(stage, heading, grid, status, dialog);
  el.append(root);
  // Arrow keys and letters belong to the focused tile, not to the notebook's command-mode shortcuts (Lumino
  // looks for this mark on the focused element itself).
  root.addEventListener("focusin", (event) => event.target.setAttribute("data-lm-suppress-shortcuts", "true"));

  const tiles = new Map(); // ref -> { figure, open, use, url, tile }
  let fullUrl = null;
  let waitingFor = null;
  let generation = 0;

  function figureFor(ref, tile) {
    const figure = document.createElement("figure");
    figure.className = "fs-gallery-tile";
    figure.setAttribute("role", "listitem");
    const open = button("", "", "fs-gallery-open");
    const img = document.createElement("img");
    open.append(img);
    const caption = document.createElement("figcaption");
    const actions = document.createElement("div");
    actions.className = "fs-gallery-actions";
    const save = button("Save", "Save the full-size image to a file in the kernel's working folder");
    const use = button("Use as edit input", "Add this image to the inputs of an edit request");
    actions.append(save, use);
    figure.append(open, caption, actions);

    const badge = document.createElement("div");
    badge.className = "fs-gallery-forming";
    badge.textContent = "Forming… (a partial image)";
    figure.insertBefore(badge, caption);
    const entry = { figure, open, save, use, badge, tile, url: null };
    // A tile's picture can change while it is shown (an image still forming, then the final one).
    function paint() {
      const alt = tile.get("alt");
      if (entry.url) URL.revokeObjectURL(entry.url);
      entry.url = blobUrl(tile.get("thumbnail"), tile.get("mime"));
      img.src = entry.url;
      img.alt = alt;
      img.classList.toggle("fs-checker", tile.get("checker"));
      open.title = alt; // the prompt on hover (compact tiles have no caption)
      badge.hidden = !tile.get("forming");
      save.hidden = tile.get("forming");
      caption.replaceChildren();
      for (const [label, value] of tile.get("caption")) {
        const row = document.createElement("div");
        if (label) {
          const key = document.createElement("span");
          key.className = "fs-gallery-label";
          key.textContent = `${label}: `;
          row.append(key);
        }
        row.append(document.createTextNode(value));
        row.title = value; // a long prompt is cut to two lines (gallery.css): whole on hover
        row.dataset.label = label;
        if (label === "Prompt") row.className = "fs-gallery-prompt";
        caption.append(row);
      }
    }
    paint();
    tile.on("change:thumbnail", paint);
    tile.on("change:caption", paint);
    tile.on("change:forming", () => { paint(); updateLabels(); });
    open.addEventListener("click", () => {
      // Show the thumbnail at once; the full image replaces it when it arrives.
      full.src = entry.url;
      full.alt = tile.get("alt");
      full.classList.toggle("fs-checker", tile.get("checker"));
      dialogCaption.textContent = "Loading the full image…";
      waitingFor = ref;
      if (typeof dialog.showModal === "function") dialog.showModal();
      model.send({ event: "enlarge", tile: ref });
    });
    open.addEventListener("keydown", (event) => moveFocus(event, open));
    save.addEventListener("click", () => model.send({ event: "save", tile: ref }));
    use.addEventListener("click", () => model.send({ event: "use", tile: ref }));
    return entry;
  }

  function moveFocus(event, from) {
    const columns = Math.max(1, model.get("columns"));
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
    if (step === undefined) return;
    const all = Array.from(root.querySelectorAll(".fs-gallery-open"));
    const next = all[all.indexOf(from) + step];
    if (next) next.focus();
    event.preventDefault();
    event.stopPropagation();
  }

  async function update() {
    const mine = ++generation;
    const refs = model.get("tiles");
    const wanted = new Set(refs);
    for (const [ref, entry] of tiles) {
      if (!wanted.has(ref)) {
        URL.revokeObjectURL(entry.url);
        entry.figure.remove();
        tiles.delete(ref);
      }
    }
    for (const ref of refs) {
      if (tiles.has(ref)) continue;
      const tile = await tileModel(ref, model, host);
      if (mine !== generation) return; // a newer update took over
      if (!tiles.has(ref)) tiles.set(ref, figureFor(ref, tile));
    }
    const shown = refs.filter((r) => tiles.has(r));
    const lead = Math.max(0, model.get("lead"));
    stage.replaceChildren(...shown.slice(0, lead).map((r) => tiles.get(r).figure));
    grid.replaceChildren(...shown.slice(lead).map((r) => tiles.get(r).figure));
    updateLabels();
  }

  function updateLabels() {
    const count = model.get("tiles").length;
    const lead = Math.min(count, Math.max(0, model.get("lead")));
    const rest = count - lead;
    root.classList.toggle("fs-gallery-compact", model.get("compact"));
    stage.hidden = lead === 0;
    heading.textContent = rest ? `${model.get("title")} (${rest})` : model.get("title");
    const columns = Math.max(1, model.get("columns"));
    grid.style.gridTemplateColumns = model.get("compact") ? "" : `repeat(${columns}, minmax(0, 1fr))`;
    stage.style.gridTemplateColumns = `repeat(${Math.min(Math.max(1, lead), columns)}, minmax(0, 1fr))`;
    if (!rest) grid.replaceChildren(Object.assign(document.createElement("div"), {
      className: "fs-gallery-empty", textContent: lead ? "Earlier images appear here." : "No images yet.",
    }));
    // Repeated buttons are told apart by number and prompt ("Save image 3: a red fox").
    let index = 0;
    for (const ref of model.get("tiles")) {
      const entry = tiles.get(ref);
      if (!entry) continue;
      index += 1;
      const alt = entry.tile.get("alt");
      const forming = entry.tile.get("forming");
      entry.open.setAttribute("aria-label", `Enlarge image ${index}: ${alt}`);
      entry.save.setAttribute("aria-label", `Save image ${index}: ${alt}`);
      entry.use.setAttribute("aria-label", `Use image ${index} as edit input: ${alt}`);
      entry.use.hidden = forming || !model.get("can_use");
    }
    status.textContent = model.get("status");
  }

  model.on("msg:custom", (msg, buffers) => {
    if (msg.event !== "full" || msg.tile !== waitingFor) return;
    waitingFor = null;
    if (buffers && buffers.length) {
      if (fullUrl) URL.revokeObjectURL(fullUrl);
      fullUrl = blobUrl(buffers[0], msg.mime);
      full.src = fullUrl;
    }
    dialogCaption.textContent = msg.error ? msg.error : `${full.alt} (${msg.width}×${msg.height})`;
  });
  model.on("change:tiles", update);
  model.on("change:columns", updateLabels);
  model.on("change:title", updateLabels);
  model.on("change:can_use", updateLabels);
  model.on("change:status", updateLabels);
  model.on("change:lead", update);
  model.on("change:compact", updateLabels);
  update();
  return () => {
    generation++;
    for (const entry of tiles.values()) URL.revokeObjectURL(entry.url);
    if (fullUrl) URL.revokeObjectURL(fullUrl);
  };
}

export default { render };
