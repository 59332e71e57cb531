// Keyboard and screen-reader care for a falstudio widget built from ipywidgets' controls (which carry no ARIA).
// Placed anywhere inside an element with class "fs-root", it
//  - marks the root's controls data-lm-suppress-shortcuts, so JupyterLab / Notebook 7 command-mode shortcuts
//    (ArrowUp/Down, letters) do not fire while one of them has focus: the keys reach the control. Lumino matches
//    a shortcut's selector (".jp-Notebook.jp-mod-commandMode :focus") against the focused element itself before
//    it looks at ancestors, so the mark must be on the control, not only on the root;
//  - names toggle groups after their label (role=group), each toggle "<label>: <option>" with aria-pressed;
//  - names slider handles and readouts after their label;
//  - names controls marked "fs-name-from-title" by their tooltip (e.g. "Run again: <prompt> · <endpoint>");
//  - keeps icon glyphs (Font Awesome <i>) out of accessible names: "Generate", not "\uf04b Generate";
//  - gives an image its title as alt text when it has none, and a job panel's picture its prompt (data-fs-alt);
//  - says whether a toggle button is pressed, and a disclosure toggle ("fs-disclosure") whether it is expanded;
//  - opens a help mark's toggletip ("fs-help") with Enter or Space, and closes it with Escape;
//  - makes an "fs-overlay" box a dialog while it is "fs-overlay-open" (drawn over the page by a11y.css): focus
//    moves to its "fs-overlay-close" button, Escape presses it, and focus returns to where it was.
// It keeps doing so as the root's content changes (a new form, a new history strip).

const NAMED_BY_TITLE = "fs-name-from-title";

function set(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function labelOf(widget) {
  const label = widget.querySelector(":scope > .widget-label");
  return label ? label.textContent.trim() : "";
}

const FOCUSABLE = "button, input, select, textarea, [tabindex], [contenteditable]";

function keepKeys(node) {
  set(node, "data-lm-suppress-shortcuts", "true");
}

function apply(root) {
  keepKeys(root);
  for (const control of root.querySelectorAll(FOCUSABLE)) keepKeys(control);
  for (const group of root.querySelectorAll(".widget-toggle-buttons")) {
    const name = labelOf(group);
    set(group, "role", "group");
    if (name) set(group, "aria-label", name);
    for (const button of group.querySelectorAll("button")) {
      set(button, "aria-pressed", String(button.classList.contains("mod-active")));
      if (name) set(button, "aria-label", `${name}: ${button.textContent.trim()}`);
    }
  }
  for (const slider of root.querySelectorAll(".widget-slider")) {
    const name = labelOf(slider);
    if (!name) continue;
    for (const handle of slider.querySelectorAll(".noUi-handle")) set(handle, "aria-label", name);
    for (const readout of slider.querySelectorAll(".widget-readout")) set(readout, "aria-label", `${name} value`);
  }
  for (const marked of root.querySelectorAll(`.${NAMED_BY_TITLE}`)) {
    const title = marked.getAttribute("title");
    const target = marked.matches("button, input, select, textarea")
      ? marked
      : marked.querySelector("button, input, select, textarea");
    if (title && target) set(target, "aria-label", title);
  }
  for (const group of root.querySelectorAll(".fs-labelled-group")) {
    // named by the label beside it (a box cannot carry a tooltip in ipywidgets 8)
    const name = group.previousElementSibling ? group.previousElementSibling.textContent.trim() : "";
    set(group, "role", "group");
    if (name) set(group, "aria-label", name);
  }
  for (const icon of root.querySelectorAll("button i, .jupyter-button i, .widget-upload i")) {
    set(icon, "aria-hidden", "true");
  }
  for (const img of root.querySelectorAll("img[title]:not([alt])")) set(img, "alt", img.getAttribute("title"));
  for (const img of root.querySelectorAll(".fs-job img:not([alt])")) {
    const source = img.closest(".fs-job").querySelector("[data-fs-alt]");
    set(img, "alt", source ? source.dataset.fsAlt : "The generated image");
  }
  for (const toggle of root.querySelectorAll(".widget-toggle-button")) {
    const pressed = String(toggle.classList.contains("mod-active"));
    set(toggle, toggle.closest(".fs-disclosure") || toggle.classList.contains("fs-disclosure")
      ? "aria-expanded" : "aria-pressed", pressed);
  }
  for (const help of root.querySelectorAll(".fs-help")) helpMark(help);
  for (const overlay of root.querySelectorAll(".fs-overlay")) overlayState(overlay);
}

function helpMark(help) {
  if (help.dataset.fsHelp) return;
  help.dataset.fsHelp = "1";
  help.setAttribute("aria-expanded", "false");
  const toggle = (open) => {
    help.classList.toggle("fs-help-open", open);
    help.classList.toggle("fs-help-closed", !open);
    help.setAttribute("aria-expanded", String(open));
  };
  help.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      toggle(!help.classList.contains("fs-help-open"));
      event.preventDefault();
    } else if (event.key === "Escape") {
      toggle(false);
      event.stopPropagation();
    }
  });
  help.addEventListener("click", () => toggle(!help.classList.contains("fs-help-open")));
  help.addEventListener("focusout", () => {
    help.classList.remove("fs-help-open", "fs-help-closed");
    help.setAttribute("aria-expanded", "false");
  });
}

const opener = new WeakMap(); // overlay -> the element focused before it opened

function overlayState(overlay) {
  const open = overlay.classList.contains("fs-overlay-open");
  if (open && !opener.has(overlay)) {
    opener.set(overlay, document.activeElement);
    set(overlay, "role", "dialog");
    set(overlay, "aria-modal", "true");
    const close = overlay.querySelector(".fs-overlay-close");
    if (close) {
      overlay.setAttribute("aria-label", "Enlarged view");
      close.focus();
    }
    if (!overlay.dataset.fsEscape) {
      overlay.dataset.fsEscape = "1";
      overlay.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && overlay.classList.contains("fs-overlay-open")) {
          event.stopPropagation();
          overlay.querySelector(".fs-overlay-close")?.click();
        }
      }, true); // capture: a control inside (the before/after slider) may stop its keys from bubbling
    }
  } else if (!open && opener.has(overlay)) {
    const back = opener.get(overlay);
    opener.delete(overlay);
    overlay.removeAttribute("role");
    overlay.removeAttribute("aria-modal");
    if (back && back.isConnected) back.focus();
  }
}

function render({ el }) {
  el.style.display = "none";
  let observer = null;
  let tries = 0;
  function attach() {
    const root = el.closest(".fs-root");
    if (!root) {
      // not in the page yet (drawn before its output is attached): look again next frame; in the page with no
      // root around it, there is nothing to care for
      if (!el.isConnected && tries++ < 600) requestAnimationFrame(attach);
      return;
    }
    apply(root);
    root.addEventListener("focusin", (event) => keepKeys(event.target)); // anything focusable added since
    let queued = false;
    observer = new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        apply(root);
      });
    });
    observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["class", "title"] });
  }
  attach();
  return () => observer && observer.disconnect();
}

export default { render };
