// Blind judging: two results side by side, labels hidden; vote by click or key (← left, → right, T tie,
// B both bad). The pictures of each pair arrive as two binary buffers of a "pair" message.

const OUTCOMES = [
  ["left", "← Left is better", "ArrowLeft"],
  ["tie", "T Tie", "t"],
  ["both_bad", "B Both bad", "b"],
  ["right", "Right is better →", "ArrowRight"],
];
const KEYS = { ArrowLeft: "left", ArrowRight: "right", t: "tie", T: "tie", b: "both_bad", B: "both_bad" };

function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined) n.textContent = text;
  return n;
}

function render({ model, el }) {
  const root = node("section", "fs-arena");
  root.setAttribute("aria-label", "Blind comparison");
  const judgeLabel = node("label", "fs-arena-judge");
  judgeLabel.append(node("span", "", "Judge "));
  const judge = document.createElement("input");
  judge.type = "text";
  judge.placeholder = "your name";
  judge.value = model.get("judge");
  judge.addEventListener("change", () => { model.set("judge", judge.value.trim()); model.save_changes(); });
  judge.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.key === "Enter") { judge.blur(); stage.focus(); }
  });
  judgeLabel.append(judge);
  const prompt = node("div", "fs-arena-prompt");
  const stage = node("div", "fs-arena-stage");
  stage.tabIndex = 0;
  stage.setAttribute("role", "group");
  stage.setAttribute("aria-label", "The pair: ← left is better, → right is better, T tie, B both bad");
  const sides = [0, 1].map((k) => {
    const figure = node("figure", "fs-arena-side");
    const img = document.createElement("img");
    img.alt = k === 0 ? "left result" : "right result";
    figure.append(img, node("figcaption", "", k === 0 ? "Left" : "Right"));
    stage.append(figure);
    return { img, url: null };
  });
  const buttons = node("div", "fs-arena-buttons");
  for (const [outcome, text] of OUTCOMES) {
    const b = node("button", "fs-arena-vote", text);
    b.type = "button";
    b.addEventListener("click", () => vote(outcome));
    buttons.append(b);
  }
  const status = node("div", "fs-arena-status");
  status.setAttribute("role", "status");
  const last = node("div", "fs-arena-last");
  const summary = node("p", "fs-arena-summary");
  const table = node("table", "fs-arena-table");
  root.append(judgeLabel, prompt, stage, buttons, status, last, summary, table);
  el.append(root);
  root.addEventListener("focusin", (event) => event.target.setAttribute("data-lm-suppress-shortcuts", "true"));

  function vote(outcome) {
    if (!model.get("judge")) {
      status.textContent = "Type your name as judge first.";
      judge.focus();
      return;
    }
    model.send({ event: "vote", outcome, number: model.get("number") });
  }

  stage.addEventListener("keydown", (event) => {
    const outcome = KEYS[event.key];
    if (!outcome) return;
    event.preventDefault();
    event.stopPropagation();
    vote(outcome);
  });

  function draw() {
    prompt.textContent = `Prompt: ${model.get("prompt")}`;
    status.textContent = model.get("status");
    last.textContent = model.get("last");
    summary.textContent = model.get("summary");
    if (judge !== document.activeElement) judge.value = model.get("judge");
    const heads = ["Variation", "Strength (95 % interval)", "Win rate (W–L–T, both bad)", "Ran", "Cost/image", "Latency"];
    const thead = node("thead");
    const tr = node("tr");
    for (const h of heads) tr.append(Object.assign(node("th", "", h), { scope: "col" }));
    thead.append(tr);
    const tbody = node("tbody");
    for (const r of model.get("table")) {
      const row = node("tr");
      const rate = r.win_rate === null ? "–" : `${Math.round(r.win_rate * 100)}%`;
      const sign = (v) => (v >= 0 ? `+${v}` : `${v}`);
      for (const text of [
        r.variation,
        `${sign(r.strength)} (${sign(r.low)} … ${sign(r.high)})`,
        `${rate} (${r.wins}–${r.losses}–${r.ties}, ${r.both_bad}) of ${r.votes}`,
        `${r.endpoint} · ${r.quality} · ${r.size}`,
        r.cost_per_image === null ? "unknown" : `$${r.cost_per_image.toFixed(3)}`,
        r.latency_s === null ? "–" : `${r.latency_s.toFixed(1)} s`,
      ]) row.append(node("td", "", text));
      tbody.append(row);
    }
    table.replaceChildren(thead, tbody);
  }

  model.on("msg:custom", (msg, buffers) => {
    if (msg.event !== "pair" || msg.number !== model.get("number")) return;
    sides.forEach((side, k) => {
      if (side.url) URL.revokeObjectURL(side.url);
      side.url = URL.createObjectURL(new Blob([buffers[k]], { type: msg.mimes[k] }));
      side.img.src = side.url;
    });
    root.dataset.pair = String(msg.number);
  });
  for (const key of ["prompt", "status", "last", "summary", "table", "judge"]) model.on(`change:${key}`, draw);
  draw();
  model.send({ event: "hello" });
  return () => sides.forEach((side) => side.url && URL.revokeObjectURL(side.url));
}

export default { render };
