// A drop zone: a button opening the file picker ("Upload…"), and drag-and-drop or paste (Ctrl/Cmd+V) of image
// files onto it, or onto the element of class `target` around it (a whole image field). The files' bytes go to
// Python in one message; nothing stays in widget state. Text pastes are left alone (they go to the text box).

function imageFiles(list) {
  return Array.from(list || []).filter((f) => f && (f.type || "").startsWith("image/"));
}

function render({ model, el }) {
  const zone = document.createElement("div");
  zone.className = "fs-drop";
  const input = document.createElement("input");
  input.type = "file";
  input.hidden = true;
  const pick = document.createElement("button");
  pick.type = "button";
  pick.className = "jupyter-button fs-drop-button";
  const hint = document.createElement("span");
  hint.className = "fs-drop-hint";
  const status = document.createElement("span");
  status.className = "fs-drop-status";
  status.setAttribute("role", "status");
  zone.append(pick, hint, status, input);
  el.append(zone);

  function paint() {
    pick.textContent = model.get("label");
    pick.title = model.get("button_tooltip");
    pick.disabled = model.get("disabled");
    hint.textContent = model.get("hint");
    input.accept = model.get("accept");
    input.multiple = model.get("multiple");
    zone.classList.toggle("fs-drop-disabled", model.get("disabled"));
  }

  async function send(files) {
    files = imageFiles(files);
    if (!model.get("multiple")) files = files.slice(0, 1);
    if (!files.length || model.get("disabled")) return false;
    const total = files.reduce((n, f) => n + f.size, 0);
    if (total > model.get("max_bytes")) {
      const mb = (model.get("max_bytes") / 1024 / 1024).toFixed(0);
      status.textContent = `Too large to send (${(total / 1024 / 1024).toFixed(1)} MB; at most ${mb} MB at a time)`;
      return true;
    }
    status.textContent = "";
    const buffers = await Promise.all(files.map((f) => f.arrayBuffer()));
    model.send({ event: "files", names: files.map((f) => f.name || "") }, undefined, buffers); // (content, callbacks, buffers)
    return true;
  }

  pick.addEventListener("click", () => input.click());
  input.addEventListener("change", async () => {
    await send(input.files);
    input.value = "";
  });

  let host = zone; // the element that takes drops and pastes: the field around the zone once it is in the page
  function over(event) {
    if (!event.dataTransfer || !Array.from(event.dataTransfer.types || []).includes("Files")) return;
    event.preventDefault();
    event.stopPropagation(); // not JupyterLab's own drop handling (it would open the file)
    event.dataTransfer.dropEffect = "copy";
    host.classList.add("fs-drop-over");
  }
  function leave(event) {
    if (!host.contains(event.relatedTarget)) host.classList.remove("fs-drop-over");
  }
  async function drop(event) {
    host.classList.remove("fs-drop-over");
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    event.stopPropagation();
    await send(event.dataTransfer.files);
  }
  async function paste(event) {
    const data = event.clipboardData;
    if (!data) return;
    let files = imageFiles(data.files);
    if (!files.length) files = imageFiles(Array.from(data.items || []).map((i) => i.kind === "file" && i.getAsFile()));
    if (!files.length) return; // text: the text box takes it
    event.preventDefault();
    event.stopPropagation();
    await send(files);
  }
  const handlers = [["dragenter", over], ["dragover", over], ["dragleave", leave], ["drop", drop], ["paste", paste]];
  function listen(target) {
    host = target;
    for (const [name, fn] of handlers) target.addEventListener(name, fn);
  }
  listen(zone);
  let tries = 0;
  let frame = 0;
  function findField() { // the view is put in the page after render(): look for the field then
    const around = model.get("target") ? el.closest(`.${model.get("target")}`) : null;
    if (around) {
      for (const [name, fn] of handlers) zone.removeEventListener(name, fn);
      around.classList.add("fs-drop-target");
      listen(around);
    } else if (model.get("target") && tries++ < 600) {
      frame = requestAnimationFrame(findField);
    }
  }
  findField();
  paint();
  model.on("change", paint);
  return () => {
    cancelAnimationFrame(frame);
    for (const [name, fn] of handlers) host.removeEventListener(name, fn);
  };
}

export default { render };
