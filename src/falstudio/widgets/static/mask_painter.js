// A mask painter: a brush and an eraser over a small copy of the first input image. "Use as mask" makes the
// mask at the image's own size (image_width × image_height): opaque where the image stays, transparent where it
// was painted (the edit applies there: OpenAI's convention, which fal follows), and sends it to Python as a PNG.

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
  stage.append(picture, canvas);
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
  root.append(stage, tools);
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
    const [x, y] = point(event);
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
  brush.addEventListener("click", () => mode(false));
  eraser.addEventListener("click", () => mode(true));
  clear.addEventListener("click", () => g.clearRect(0, 0, canvas.width, canvas.height));
  use.addEventListener("click", async () => {
    const w = model.get("image_width"), h = model.get("image_height");
    const out = document.createElement("canvas");
    out.width = w;
    out.height = h;
    const o = out.getContext("2d");
    o.fillStyle = "#000";
    o.fillRect(0, 0, w, h); // opaque: the image stays
    o.globalCompositeOperation = "destination-out"; // painted: transparent, the edit applies
    o.drawImage(canvas, 0, 0, w, h);
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
