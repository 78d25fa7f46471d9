// /cases and /cases/{id}: the applicant's applications from GET /v1/cases, and one with its
// status timeline in plain language, the messages about it, the submission receipt and the
// withdrawal (after a confirmation dialog).
import { api } from "./session.js";
import { authorityName, el, flowTitle, status, texts, when } from "./cases-common.js";

const WITHDRAWABLE = new Set(["submitted", "received", "processing", "action_required"]);

function statusText(item) {
  const label = texts.status[item.status] || item.status;
  const outcome = item.state === "withdrawn" ? "withdrawn" : item.outcome;
  return outcome && texts.outcome[outcome] ? `${label} (${texts.outcome[outcome]})` : label;
}

async function json(path, options) {
  const response = await api(path, options);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// ------------------------------------------------------------------ the list
async function showList(list) {
  const cases = await json("/v1/cases");
  status(cases.length ? "" : texts.none_cases);
  list.replaceChildren(...cases.map((c) => el("li", { class: "case-list__item" },
    el("h2", { class: "kern-heading-small" },
      el("a", { class: "kern-link", href: `/cases/${encodeURIComponent(c.id)}`, text: flowTitle(c.flow_id) })),
    el("p", { class: "case-list__status", text: statusText(c) }),
    el("p", { class: "case-list__dates" },
      `${texts.started}: ${when(c.created_at)} · ${texts.last_change}: ${when(c.last_change_at)}`),
  )));
}

// ------------------------------------------------------------------ one case
function timelineItem(step) {
  return el("li", { class: "timeline__step" },
    el("p", { class: "timeline__status", text: texts.status[step.status] || step.status }),
    el("p", { class: "timeline__reason", text: texts.reason[step.reason] || step.reason }),
    el("p", { class: "timeline__date" }, el("time", { datetime: step.at, text: when(step.at) })),
  );
}

async function showMessages(caseId) {
  const target = document.getElementById("case-messages");
  const messages = (await json("/v1/me/messages")).filter((m) => m.case_ref === caseId);
  target.replaceChildren(...messages.map((m) => el("li", {},
    el("a", { class: "kern-link", href: `/messages/${encodeURIComponent(m.id)}`,
      text: `${texts.category[m.category] || m.category}: ${m.title}` }),
    ` (${when(m.sent_at)})`,
  )));
  if (!messages.length) target.replaceChildren(el("li", { text: texts.none_messages }));
}

async function downloadReceipt(caseId) {
  const receipt = await json(`/v1/cases/${encodeURIComponent(caseId)}/receipt`);
  const blob = new Blob([JSON.stringify(receipt, null, 2)], { type: "application/json" });
  const link = el("a", { href: URL.createObjectURL(blob), download: `receipt-${caseId}.json` });
  document.body.append(link);
  link.click();
  link.remove();
}

function offerWithdrawal(caseId, onDone) {
  const button = document.getElementById("withdraw");
  const dialog = document.getElementById("withdraw-dialog");
  button.hidden = false;
  button.onclick = () => dialog.showModal();
  dialog.onclose = async () => {
    if (dialog.returnValue !== "confirm") return button.focus();
    dialog.returnValue = "";
    const response = await api(`/v1/cases/${encodeURIComponent(caseId)}/withdraw`, { method: "POST" });
    if (!response.ok) return status(texts.withdraw_failed);
    button.hidden = true;
    await onDone();
    status(texts.withdrawn_done);
  };
}

async function showCase(container) {
  const caseId = container.dataset.caseId;
  const render = async () => {
    const c = await json(`/v1/cases/${encodeURIComponent(caseId)}`);
    document.getElementById("case-title").textContent = flowTitle(c.flow_id);
    document.getElementById("case-status").textContent = statusText(c);
    document.getElementById("case-authority").textContent = authorityName(c.authority);
    document.getElementById("timeline").replaceChildren(...c.timeline.map(timelineItem));
    document.getElementById("receipt").hidden = !c.submission_id;
    document.getElementById("withdraw").hidden = !WITHDRAWABLE.has(c.state);
    return c;
  };
  const c = await render();
  container.hidden = false;
  status("");
  document.getElementById("receipt").onclick = () => downloadReceipt(caseId).catch(() => status(texts.failed));
  if (WITHDRAWABLE.has(c.state)) offerWithdrawal(caseId, render);
  await showMessages(caseId);
}

const list = document.getElementById("case-list");
const one = document.getElementById("case");
(list ? showList(list) : showCase(one)).catch(() => status(texts.failed));
