// Before/after view of two images: a swipe slider (a native range input, so the keyboard works) or side by side.
// Images arrive as binary buffers (DataView); `position` is the percentage of the width that shows "before".

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function clamp(value) {
  return Math.min(100, Math.max(0, value));
}

function render({ model, el: host }) {
  const urls = { before: null, after: null };

  const root = el("div", "fs-ba");
  const toolbar = el("div", "fs-ba-toolbar");
  const toggle = el("button", "fs-ba-toggle", { type: "button" });
  const readout = el("span", "fs-ba-readout", { "aria-hidden": "true" });
  toolbar.append(toggle, readout);

  // Slider mode: "after" underneath, "before" on top clipped to the left `position` percent.
  const stage = el("div", "fs-ba-stage");
  const after = el("img", "fs-ba-img fs-ba-after", { draggable: "false" });
  const before = el("img", "fs-ba-img fs-ba-before", { draggable: "false" });
  const divider = el("div", "fs-ba-divider", { "aria-hidden": "true" });
  const beforeTag = el("span", "fs-ba-tag fs-ba-tag-before", { "aria-hidden": "true" });
  const afterTag = el("span", "fs-ba-tag fs-ba-tag-after", { "aria-hidden": "true" });
  stage.append(after, before, divider, beforeTag, afterTag);
  const range = el("input", "fs-ba-range", { type: "range", min: "0", max: "100", step: "1" });

  // Side-by-side mode: two captioned figures.
  const pair = el("div", "fs-ba-pair");
  const figures = ["before", "after"].map((which) => {
    const figure = el("figure", "fs-ba-figure");
    const img = el("img", "fs-ba-img");
    const caption = el("figcaption");
    figure.append(img, caption);
    pair.append(figure);
    return { which, img, caption };
  });

  root.append(toolbar, stage, range, pair);
  host.append(root);
  // Keys belong to the focused slider, not to the notebook's command-mode shortcuts (see gallery.js).
  root.addEventListener("focusin", (event) => event.target.setAttribute("data-lm-suppress-shortcuts", "true"));

  function setUrl(which) {
    if (urls[which]) URL.revokeObjectURL(urls[which]);
    const data = model.get(which);
    urls[which] = data && data.byteLength ? URL.createObjectURL(new Blob([data])) : null;
    const src = urls[which] || "";
    (which === "before" ? before : after).src = src;
    figures.find((f) => f.which === which).img.src = src;
  }

  function updateText() {
    const alt = model.get("alt");
    const labels = { before: model.get("before_label"), after: model.get("after_label") };
    before.alt = alt ? `${labels.before}: ${alt}` : labels.before;
    after.alt = alt ? `${labels.after}: ${alt}` : labels.after;
    beforeTag.textContent = labels.before;
    afterTag.textContent = labels.after;
    for (const f of figures) {
      f.img.alt = alt ? `${labels[f.which]}: ${alt}` : labels[f.which];
      f.caption.textContent = labels[f.which];
    }
    range.setAttribute("aria-label", `${labels.before} / ${labels.after} position: percent of the width showing ${labels.before}`);
    updatePosition();
  }

  function updatePosition() {
    const pos = clamp(Number(model.get("position")));
    before.style.clipPath = `inset(0 ${100 - pos}% 0 0)`;
    divider.style.left = `${pos}%`;
    if (Number(range.value) !== pos) range.value = String(pos);
    const shown = Math.round(pos);
    const text = `left ${shown}%: ${model.get("before_label")} · right ${100 - shown}%: ${model.get("after_label")}`;
    range.setAttribute("aria-valuetext", text);
    readout.textContent = text;
  }

  function updateMode() {
    const slider = model.get("mode") === "slider";
    stage.hidden = !slider;
    range.hidden = !slider;
    readout.hidden = !slider;
    pair.hidden = slider;
    toggle.textContent = slider ? "Show side by side" : "Show with slider";
    toggle.setAttribute("aria-pressed", String(!slider));
  }

  function setPosition(value) {
    model.set("position", Math.round(clamp(value) * 10) / 10);
    model.save_changes();
  }

  range.addEventListener("input", () => setPosition(Number(range.value)));
  // Keep JupyterLab's command-mode shortcuts (arrows move between cells) away from the slider.
  range.addEventListener("keydown", (event) => event.stopPropagation());
  toggle.addEventListener("click", () => {
    model.set("mode", model.get("mode") === "slider" ? "side-by-side" : "slider");
    model.save_changes();
  });

  // Swipe: drag anywhere on the image.
  let dragging = false;
  function fromPointer(event) {
    const box = stage.getBoundingClientRect();
    if (box.width > 0) setPosition(((event.clientX - box.left) / box.width) * 100);
  }
  stage.addEventListener("pointerdown", (event) => {
    dragging = true;
    stage.setPointerCapture(event.pointerId);
    fromPointer(event);
  });
  stage.addEventListener("pointermove", (event) => dragging && fromPointer(event));
  stage.addEventListener("pointerup", () => (dragging = false));
  stage.addEventListener("pointercancel", () => (dragging = false));

  const onBefore = () => setUrl("before");
  const onAfter = () => setUrl("after");
  model.on("change:before", onBefore);
  model.on("change:after", onAfter);
  model.on("change:position", updatePosition);
  model.on("change:mode", updateMode);
  for (const name of ["alt", "before_label", "after_label"]) model.on(`change:${name}`, updateText);
  setUrl("before");
  setUrl("after");
  updateText();
  updateMode();

  return () => {
    model.off("change:before", onBefore);
    model.off("change:after", onAfter);
    model.off("change:position", updatePosition);
    model.off("change:mode", updateMode);
    for (const name of ["alt", "before_label", "after_label"]) model.off(`change:${name}`, updateText);
    for (const url of Object.values(urls)) if (url) URL.revokeObjectURL(url);
  };
}

export default { render };
