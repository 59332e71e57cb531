// A mask painter: a brush and an eraser over a small copy of the first input image. "Use as mask" makes the
// mask at the image's own size (image_width × image_height): opaque where the image stays, transparent where it
// was painted (the edit applies there: OpenAI's convention, which fal follows), and sends it to Python as a PNG.
// Keyboard: the canvas takes focus; arrows move a brush ring, Space puts the pen down or lifts it (arrows then
// paint), Enter paints one dab, E and B pick the eraser and the brush, [ and ] change the brush size.

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "fs-mask";
  const stage = document.createElement("div");
  stage.className = "fs-mask-stage";
  const picture = document.createElement("img");
  picture.alt = "The first input image, to paint the mask over";
  const canvas = document.createElement("canvas");
  canvas.className = "fs-mask-canvas";
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Mask being painted: the painted area is where the edit applies");
  canvas.tabIndex = 0;
  canvas.setAttribute("data-lm-suppress-shortcuts", "true"); // arrows and keys paint, not JupyterLab commands
  const keys = document.createElement("span");
  keys.className = "fs-mask-keys";
  keys.id = `fs-mask-keys-${Math.random().toString(36).slice(2)}`;
  keys.textContent = "Keyboard: arrows move the brush, Space puts the pen down or lifts it, Enter paints a dot, " +
    "E eraser, B brush, [ ] brush size";
  canvas.setAttribute("aria-describedby", keys.id);
  const ring = document.createElement("div");
  ring.className = "fs-mask-ring";
  ring.setAttribute("aria-hidden", "true");
  stage.append(picture, canvas, ring);
  const tools = document.createElement("div");
  tools.className = "fs-mask-tools";
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", "Mask painter");
  function tool(text, title) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "jupyter-button";
    b.textContent = text;
    b.title = title;
    tools.append(b);
    return b;
  }
  const brush = tool("Brush", "Paint where the edit should apply");
  const eraser = tool("Eraser", "Take paint away");
  const clear = tool("Clear", "Start the mask again");
  const size = document.createElement("input");
  size.type = "range";
  size.min = "4";
  size.max = "96";
  size.setAttribute("aria-label", "Brush size");
  tools.append(size);
  const use = tool("Use as mask", "Make the mask at the image's size and put it in the mask field");
  use.classList.add("mod-primary");
  const note = document.createElement("span");
  note.className = "fs-mask-note";
  note.setAttribute("role", "status");
  tools.append(note);
  root.append(stage, tools, keys);
  el.append(root);

  let erasing = false;
  let url = null;
  const g = canvas.getContext("2d");
  function mode(erase) {
    erasing = erase;
    brush.setAttribute("aria-pressed", String(!erase));
    eraser.setAttribute("aria-pressed", String(erase));
    brush.classList.toggle("mod-active", !erase);
    eraser.classList.toggle("mod-active", erase);
  }
  function load() {
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(new Blob([model.get("background")], { type: model.get("mime") }));
    picture.onload = () => {
      canvas.width = picture.naturalWidth;
      canvas.height = picture.naturalHeight;
      note.textContent = `Mask size: ${model.get("image_width")}×${model.get("image_height")} (the image's)`;
    };
    picture.src = url;
  }
  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
  }
  let last = null;
  function paint(event) {
    stroke(...point(event));
  }
  function stroke(x, y) {
    g.globalCompositeOperation = erasing ? "destination-out" : "source-over";
    g.strokeStyle = g.fillStyle = "rgba(255, 64, 129, 0.55)";
    g.lineWidth = Number(size.value);
    g.lineCap = g.lineJoin = "round";
    g.beginPath();
    if (last) g.moveTo(last[0], last[1]); else g.moveTo(x, y);
    g.lineTo(x + 0.01, y);
    g.stroke();
    last = [x, y];
  }
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = null;
    paint(event);
  });
  canvas.addEventListener("pointermove", (event) => { if (event.buttons) paint(event); });
  canvas.addEventListener("pointerup", () => { last = null; });

  let at = null; // the keyboard brush, in canvas pixels
  let penDown = false;
  function showRing() {
    if (!at || document.activeElement !== canvas) { ring.style.display = "none"; return; }
    const scale = canvas.getBoundingClientRect().width / (canvas.width || 1);
    const d = Math.max(6, Number(size.value) * scale);
    Object.assign(ring.style, {
      display: "block", width: `${d}px`, height: `${d}px`,
      left: `${at[0] * scale - d / 2}px`, top: `${at[1] * scale - d / 2}px`,
    });
    ring.classList.toggle("mod-down", penDown);
  }
  function pen(down) {
    penDown = down;
    last = null;
    if (down) stroke(...at);
    note.textContent = down ? `Pen down (${erasing ? "erasing" : "painting"}): arrows ${erasing ? "erase" : "paint"}` : "Pen up: arrows move";
  }
  canvas.addEventListener("focus", () => { at = at || [canvas.width / 2, canvas.height / 2]; showRing(); });
  canvas.addEventListener("blur", () => { if (penDown) pen(false); showRing(); });
  canvas.addEventListener("keydown", (event) => {
    const step = Math.max(1, Math.round(canvas.width * (event.shiftKey ? 0.1 : 0.03)));
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key in moves) {
      const [dx, dy] = moves[key];
      at = [Math.min(canvas.width, Math.max(0, at[0] + dx)), Math.min(canvas.height, Math.max(0, at[1] + dy))];
      if (penDown) stroke(...at);
    } else if (key === " ") pen(!penDown);
    else if (key === "Enter") { last = null; stroke(...at); last = penDown ? at : null; }
    else if (key === "e" || key === "b") { mode(key === "e"); if (penDown) pen(true); }
    else if (key === "[" || key === "]") size.value = String(Number(size.value) + (key === "]" ? 4 : -4));
    else if (key === "Escape" && penDown) pen(false);
    else return; // Tab and the rest: the page's
    event.preventDefault();
    event.stopPropagation();
    showRing();
  });
  brush.addEventListener("click", () => mode(false));
  eraser.addEventListener("click", () => mode(true));
  clear.addEventListener("click", () => g.clearRect(0, 0, canvas.width, canvas.height));
  use.addEventListener("click", async () => {
    const w = model.get("image_width"), h = model.get("image_height");
    const out = document.createElement("canvas");
    out.width = w;
    out.height = h;
    const o = out.getContext("2d");
    o.drawImage(canvas, 0, 0, w, h); // the paint at the image's size
    // fully transparent (alpha 0) where painted, opaque elsewhere: OpenAI edits only where alpha is 0, and the
    // half-transparent paint would otherwise leave alpha ~115 there
    const pixels = o.getImageData(0, 0, w, h);
    const px = pixels.data;
    for (let i = 0; i < px.length; i += 4) {
      const painted = px[i + 3] >= 64; // not the faint rim a scaled stroke leaves
      px[i] = px[i + 1] = px[i + 2] = 0;
      px[i + 3] = painted ? 0 : 255;
    }
    o.putImageData(pixels, 0, 0);
    const blob = await new Promise((done) => out.toBlob(done, "image/png"));
    model.send({ event: "mask" }, undefined, [await blob.arrayBuffer()]);
    note.textContent = `Mask sent (${w}×${h})`;
  });
  size.value = String(model.get("brush"));
  mode(false);
  load();
  model.on("change:background", load);
  return () => { if (url) URL.revokeObjectURL(url); };
}

export default { render };
