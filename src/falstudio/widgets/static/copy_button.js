// "Copy as code": copies `text` to the clipboard from the browser (navigator.clipboard, or a hidden textarea and
// execCommand where the Clipboard API is unavailable, e.g. plain http), says so next to the button, and tells
// the kernel (which then shows the snippet too).

async function copy(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      // permission refused: try the old way
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch (_) {
    ok = false;
  }
  area.remove();
  return ok;
}

function render({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "jupyter-button widget-button fs-copy-button";
  const icon = document.createElement("i");
  icon.className = "fa fa-copy";
  icon.setAttribute("aria-hidden", "true");
  const label = document.createElement("span");
  const status = document.createElement("span");
  status.className = "fs-copy-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  button.append(icon, label);
  el.classList.add("fs-copy");
  el.append(button, status);
  let timer = null;

  function update() {
    label.textContent = ` ${model.get("description")}`;
    button.title = model.get("tooltip");
    button.disabled = !model.get("text");
  }
  button.addEventListener("click", async () => {
    const ok = await copy(model.get("text"));
    status.textContent = ok ? `✓ ${model.get("copied_label")}` : "Could not reach the clipboard: copy the snippet below";
    status.dataset.ok = String(ok);
    model.send({ event: "copied", ok });
    clearTimeout(timer);
    timer = setTimeout(() => (status.textContent = ""), 6000);
  });
  model.on("change:description", update);
  model.on("change:tooltip", update);
  model.on("change:text", update);
  update();
  return () => clearTimeout(timer);
}

export default { render };
