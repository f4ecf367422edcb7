/**
 * The chat panel's page: the conversation with a chat flow as bubbles (the user's messages as plain
 * text, the answers as Markdown rendered safely), the running turn's answer streaming in, and the
 * input box with the flow's other inputs. Renders the extension's last `state` (plus the `token`s of
 * the running turn) and posts what the user asks for; it never changes the conversation itself.
 */

import MarkdownIt from "markdown-it";
import type { ChatShape, ChatTurn, FromChat, ToChat } from "../src/chatMessages";
import { findImages, imageOf, type ImageRef, imageSource } from "../src/imageValues";
import { convert, display, InputError } from "../src/inputs";
import type { InputField } from "../src/messages";
import { formatDuration } from "../src/runModel";
import { el, ICONS, type VsCodeApi } from "./dom";

declare function acquireVsCodeApi(): VsCodeApi<FromChat>;

type State = Extract<ToChat, { type: "state" }>;

/** What survives the panel being hidden and shown again (the webview is rebuilt then). */
interface Saved {
  /** The flow's uri: VS Code hands it back to the extension when it restores the panel after a reload. */
  uri?: string;
  draft?: string;
  inputsOpen?: boolean;
}

const vscode = acquireVsCodeApi();
const app = document.getElementById("app") as HTMLElement;
const saved = (vscode.getState() ?? {}) as Saved;

/**
 * The addresses that may be links: the web and mail. Any other scheme (`javascript:`, `file:`,
 * `command:`, `vscode:`, `data:`) and relative addresses are shown as text.
 */
const WEB_LINK = /^(https?|mailto):/i;
/** What a Markdown picture may show besides web addresses (remote ones are left to the webview's CSP). */
const DATA_IMAGE = /^data:image\/(gif|png|jpeg|webp);/i;

/**
 * Answers are Markdown from a model: no raw HTML (`<script>` stays text); a link, autolink or linkified
 * address only to the web or mail (markdown-it's validateLink, which also checks what linkify finds),
 * any other stays the text it was typed as.
 */
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true });
markdown.validateLink = (url) => WEB_LINK.test(url) || DATA_IMAGE.test(url);
const linkOpen = markdown.renderer.rules.link_open
  ?? ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
markdown.renderer.rules.link_open = (tokens, index, options, env, self) => {
  const href = String(tokens[index].attrGet("href") ?? "");
  if (!WEB_LINK.test(href)) {  // a picture's data URL given as a link: its text only
    const close = tokens.findIndex((token, at) => at > index && token.type === "link_close");
    if (close >= 0) {
      tokens[close].hidden = true;
    }
    return "";
  }
  tokens[index].attrSet("title", href);  // where a link goes shows before it is followed
  return linkOpen(tokens, index, options, env, self);
};

let state: State | undefined;
let attachments: string[] = [];
/** Each turn's drawing and what it was drawn from, so a new state redraws only the turns that changed. */
const drawn = new Map<string, { key: string; element: HTMLElement }>();
/**
 * The log holds the turns in groups of this many, each laid out and painted only while in view
 * (`.turns` has `content-visibility: auto`): a long conversation costs what is in view. Groups, not
 * turns, so that the browser watches a few dozen elements for coming into view, not thousands.
 */
const GROUP = 50;
/** Whether the conversation follows its end (false once the user scrolls up). */
let following = true;
/** The running turns that got tokens since the last animation frame: drawn once, at the next one. */
const streaming = new Set<string>();
let frame: number | undefined;
let fieldsKey: string | undefined;

function post(message: FromChat): void {
  vscode.postMessage(message);
}

function remember(change: Saved): void {
  Object.assign(saved, change);
  vscode.setState(saved);
}

function button(label: string, action: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const element = el("button", { type: "button", ...attrs }, label);
  element.addEventListener("click", action);
  return element;
}

/** Markdown → elements; each code block gets a Copy button. */
function renderMarkdown(text: string): DocumentFragment {
  const template = document.createElement("template");
  template.innerHTML = markdown.render(text);  // html: false, so no markup of the model's own gets through
  for (const pre of Array.from(template.content.querySelectorAll("pre"))) {
    const code = pre.querySelector("code");
    const copy = button("Copy", () => {
      navigator.clipboard?.writeText(code?.textContent ?? pre.textContent ?? "").then(() => {
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = "Copy"; }, 1500);
      }, () => undefined);
    }, { class: "copy", title: "Copy the code" });
    const block = el("div", { class: "code" });
    pre.setAttribute("tabindex", "0");
    pre.replaceWith(block);
    block.append(copy, pre);
  }
  return template.content;
}

/** An image in a value as a picture: files through the webview's image root, data URLs as they are. */
function picture(image: ImageRef | { path?: string; url?: string }, label: string): HTMLElement | null {
  const source = image.path !== undefined && state ? imageSource(state.imageRoot, image.path)
    : image.url?.startsWith("data:image/") ? image.url : undefined;
  if (!source) {
    if (!image.url) {
      return null;
    }
    return WEB_LINK.test(image.url) ? el("a", { href: image.url, title: image.url }, label)
      : el("span", { class: "url", title: "Not a web address, so not a link" }, `${label}: ${image.url}`);
  }
  return el("img", { class: "picture", src: source, alt: label, title: image.path ?? label });
}

/** A completed turn's answer: text as Markdown; text and images in a list in order; anything else as JSON. */
function answerBody(answer: unknown, streamed: string): Node[] {
  if (typeof answer === "string") {
    return [renderMarkdown(answer)];
  }
  if (answer === null || answer === undefined) {
    return streamed ? [renderMarkdown(streamed)] : [el("p", { class: "note" }, "(no answer)")];
  }
  const single = imageOf(answer);
  if (single) {
    return [picture(single, "image") ?? el("pre", {}, JSON.stringify(answer, null, 2))];
  }
  if (Array.isArray(answer) && answer.every((item) => typeof item === "string" || imageOf(item))) {
    return answer.map((item, index) => typeof item === "string" ? renderMarkdown(item)
      : picture(imageOf(item) ?? {}, `image ${index + 1}`) ?? el("pre", {}, JSON.stringify(item)));
  }
  const pictures = findImages(answer).map((image) => picture(image, image.at || "image"))
    .filter((item): item is HTMLElement => item !== null);
  return [...(pictures.length ? [el("div", { class: "pictures" }, ...pictures)] : []),
    el("pre", { class: "json", tabindex: "0" }, JSON.stringify(answer, null, 2))];
}

/** The inside of a turn's answer bubble, by its status. */
function answerContent(turn: ChatTurn): Node[] {
  const streamed = turn.streamed ? [renderMarkdown(turn.streamed)] : [];
  switch (turn.status) {
    case "Running":
      return [...streamed, el("span", { class: "typing", title: "Answering" },
        el("span", { class: "visually-hidden" }, "Answering…"),
        el("span", { class: "dot", "aria-hidden": "true" }), el("span", { class: "dot", "aria-hidden": "true" }),
        el("span", { class: "dot", "aria-hidden": "true" }))];
    case "Completed":
      return answerBody(turn.answer, turn.streamed);
    case "Failed":
      return [...streamed, el("div", { class: "error", role: "alert" },
        el("strong", {}, `${turn.error?.type ?? "Error"}: `), turn.error?.message ?? "the turn failed")];
    case "Canceled":
      return [...streamed, el("p", { class: "note canceled" }, `${ICONS.Canceled} Canceled`)];
  }
}

function answerBubble(turn: ChatTurn, shape: ChatShape): HTMLElement {
  return el("div", { class: `bubble answer status-${turn.status}${turn.status === "Failed" ? " failed" : ""}` },
    el("span", { class: "visually-hidden" }, `${shape.flow}: `), ...answerContent(turn));
}

function turnElement(turn: ChatTurn, shape: ChatShape): HTMLElement {
  const user = el("div", { class: "bubble user" }, el("span", { class: "visually-hidden" }, "You: "),
    turn.text ? el("div", { class: "text" }, turn.text) : null,
    turn.images.length ? el("div", { class: "attached" }, ...turn.images.map((image, index) =>
      el("img", { src: image, alt: `attached image ${index + 1}` }))) : null);
  const meta = el("div", { class: "meta" });
  if (turn.status !== "Running" && turn.durationMs !== null) {
    meta.append(el("span", { class: "duration" }, formatDuration(turn.durationMs)));
  }
  if (turn.debug) {
    meta.append(el("span", { class: "tag debug", title: "Ran under the debugger" }, "debug"));
  }
  if (turn.runId) {
    const runId = turn.runId;
    meta.append(button("Open trace", () => post({ type: "openTrace", runId }),
      { class: "link trace", title: "Show this turn's run (its nodes, prompts, tokens) in the run panel" }));
  }
  return el("div", { class: `turn status-${turn.status}`, "data-turn": turn.id }, user, answerBubble(turn, shape),
    meta.childNodes.length ? meta : null);
}

// ---- The page's frame: toolbar, conversation, other inputs, input box (drawn once, updated in place).

const title = el("h1", { class: "title" }, "Chat");
const newChat = button("New chat", () => post({ type: "newChat" }), { id: "new-chat", title: "Forget this conversation" });
const exportChat = button("Export chat", () => post({ type: "export" }),
  { id: "export-chat", title: "Save the conversation as a JSONL data file for run create" });
const log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
const inputs = el("details", { class: "other-inputs", hidden: "" }, el("summary", {}, "Other inputs"));
const fieldsForm = el("form", { class: "fields", "aria-label": "Other inputs" });
inputs.append(fieldsForm);
inputs.open = saved.inputsOpen ?? false;
inputs.addEventListener("toggle", () => remember({ inputsOpen: inputs.open }));

const label = el("label", { for: "message", class: "visually-hidden" }, "Message");
const textarea = el("textarea", { id: "message", rows: "2", spellcheck: "true" });
textarea.value = saved.draft ?? "";
const preview = el("div", { class: "attachments", "aria-label": "Images to send" });
const fileInput = el("input", { type: "file", accept: "image/*", multiple: "", hidden: "", tabindex: "-1" });
const attach = button("Attach image", () => fileInput.click(), { id: "attach", title: "Attach images to the message" });
const debugSend = button("Debug", () => send(true), { id: "debug-send", title: "Send, running the turn under the debugger" });
const sendButton = el("button", { type: "submit", class: "primary", id: "send" }, "Send");
const stop = button("Stop", () => post({ type: "cancel" }), { class: "primary", id: "stop", title: "Stop the answer" });
const composer = el("form", { class: "composer", "aria-label": "Send a message" }, label, preview,
  textarea, el("div", { class: "actions" }, attach, fileInput, el("span", { class: "spacer" }), debugSend, sendButton, stop));

app.append(el("header", { class: "toolbar" }, title,
  el("div", { class: "actions", role: "toolbar", "aria-label": "Chat" }, newChat, exportChat)), log, inputs, composer);

function canSend(): boolean {
  return state !== undefined && !state.running && (textarea.value.trim() !== "" || attachments.length > 0);
}

/** The buttons' states from the draft and the last state. */
function updateComposer(): void {
  const running = state?.running ?? false;
  sendButton.disabled = !canSend();
  debugSend.disabled = !canSend();
  sendButton.hidden = running;
  stop.hidden = !running;
  attach.hidden = !state?.shape.acceptsImages;
}

function grow(): void {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 200)}px`;
}

function fieldValues(): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const control of fieldsForm.querySelectorAll<HTMLInputElement>("[data-name]")) {
    values[control.dataset.name as string] = control.value;
  }
  return values;
}

function send(debug: boolean): void {
  if (!canSend()) {
    return;
  }
  post({ type: "send", text: textarea.value, images: [...attachments], values: fieldValues(), debug });
  textarea.value = "";
  attachments = [];
  remember({ draft: "" });
  drawAttachments();
  grow();
  following = true;
  updateComposer();
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  send(false);
});
textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();  // Enter sends; Shift+Enter keeps the textarea's own new line
    send(false);
  }
});
textarea.addEventListener("input", () => {
  remember({ draft: textarea.value });
  grow();
  updateComposer();
});
textarea.addEventListener("paste", (event) => {
  const files = Array.from(event.clipboardData?.files ?? []).filter((file) => file.type.startsWith("image/"));
  if (files.length && state?.shape.acceptsImages) {
    event.preventDefault();
    addImages(files);
  }
});
fileInput.addEventListener("change", () => {
  addImages(Array.from(fileInput.files ?? []));
  fileInput.value = "";
});

function addImages(files: File[]): void {
  for (const file of files.filter((f) => f.type.startsWith("image/"))) {
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      if (typeof reader.result === "string") {
        attachments.push(reader.result);
        drawAttachments();
        updateComposer();
      }
    });
    reader.readAsDataURL(file);
  }
}

function drawAttachments(): void {
  preview.replaceChildren(...attachments.map((image, index) => el("div", { class: "thumb" },
    el("img", { src: image, alt: `image ${index + 1} to send` }),
    button("×", () => {
      attachments.splice(index, 1);
      drawAttachments();
      updateComposer();
      textarea.focus();
    }, { class: "remove", "aria-label": `Remove image ${index + 1}`, title: "Remove" }))));
  preview.hidden = attachments.length === 0;
}

// ---- Other inputs: one field per input, typed as the run panel's form types them.

function fieldElement(input: InputField, value: unknown): HTMLElement {
  const id = `input-${input.name}`;
  const shown = display(value ?? input.default);
  let control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  if (input.type === "bool") {
    control = el("select", { id, "data-name": input.name },
      el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
    control.value = shown === "true" ? "true" : "false";
  } else if (input.type === "list" || input.type === "object") {
    control = el("textarea", { id, "data-name": input.name, rows: "2", spellcheck: "false" }, shown);
  } else {
    control = el("input", { id, "data-name": input.name, type: "text", value: shown, spellcheck: "false" });
  }
  const problem = el("div", { class: "problem", id: `${id}-problem`, role: "status" });
  const check = (): void => {
    try {
      convert(input, control.value);
      problem.textContent = "";
      control.removeAttribute("aria-invalid");
    } catch (error) {
      problem.textContent = error instanceof InputError ? error.message : String(error);
      control.setAttribute("aria-invalid", "true");
    }
  };
  control.setAttribute("aria-describedby", `${id}-problem`);
  control.addEventListener("input", check);
  return el("div", { class: "field" },
    el("label", { for: id }, input.name, el("span", { class: "type" }, input.type ?? "string")),
    control, input.description ? el("div", { class: "hint" }, input.description) : null, problem);
}

/** The form, drawn again only when the fields change (so typing is never lost to a new state). */
function drawFields(current: State): void {
  const key = JSON.stringify(current.fields);
  if (key === fieldsKey) {
    return;
  }
  fieldsKey = key;
  fieldsForm.replaceChildren(...current.fields.map((input) => fieldElement(input, current.values[input.name])));
  inputs.hidden = current.fields.length === 0;
}

fieldsForm.addEventListener("change", () => post({ type: "values", values: fieldValues() }));
fieldsForm.addEventListener("submit", (event) => event.preventDefault());

// ---- The conversation.

log.addEventListener("scroll", () => {
  following = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
});

/**
 * Keeps the end in view: scrolls the end of the last group of turns into view (not `scrollTop =
 * scrollHeight`, which measures the whole conversation; the groups out of view are not laid out).
 */
function follow(): void {
  if (following) {
    log.lastElementChild?.scrollIntoView({ block: "end" });
  }
}

function drawTurns(current: State): void {
  if (!current.turns.length) {
    drawn.clear();
    log.replaceChildren(el("p", { class: "empty" }, `Ask ${current.shape.flow} something.`,
      el("br"), el("span", { class: "hint" }, "Enter sends, Shift+Enter starts a new line.")));
    return;
  }
  const elements = current.turns.map((turn) => {
    const key = JSON.stringify([turn, current.imageRoot, current.shape.flow]);
    const previous = drawn.get(turn.id);
    if (previous?.key === key) {
      return previous.element;  // unchanged: kept as it is (with its focus and selection)
    }
    const element = turnElement(turn, current.shape);
    drawn.set(turn.id, { key, element });
    return element;
  });
  const ids = new Set(current.turns.map((turn) => turn.id));
  for (const id of Array.from(drawn.keys())) {
    if (!ids.has(id)) {
      drawn.delete(id);
    }
  }
  log.querySelector(":scope > .empty")?.remove();
  let groups = 0;
  for (let start = 0; start < elements.length; start += GROUP, groups++) {
    const group = log.children[groups] as HTMLElement | undefined ?? log.appendChild(el("div", { class: "turns" }));
    place(group, elements.slice(start, start + GROUP));
  }
  while (log.children.length > groups) {
    log.lastElementChild?.remove();
  }
}

/** Makes the container's children these elements, in order, moving and replacing as few as it can. */
function place(container: HTMLElement, elements: HTMLElement[]): void {
  elements.forEach((element, index) => {
    if (container.children[index] !== element) {
      const old = container.children[index];
      if (old && !elements.includes(old as HTMLElement)) {
        old.replaceWith(element);  // (if a later group has it, that group puts it back)
      } else {
        container.insertBefore(element, old ?? null);
      }
    }
  });
  while (container.children.length > elements.length) {
    container.lastElementChild?.remove();
  }
}

function render(current: State): void {
  state = current;
  streaming.clear();  // the state holds every token sent before it; drawTurns draws the turns they changed
  title.textContent = current.shape.flow;
  document.title = `Chat · ${current.shape.flow}`;
  textarea.placeholder = `Ask ${current.shape.flow} something`;
  label.textContent = `Message to ${current.shape.flow}`;
  exportChat.disabled = current.turns.length === 0;
  newChat.disabled = current.turns.length === 0 && !current.running;
  if (!current.shape.acceptsImages && attachments.length) {
    attachments = [];
    drawAttachments();
  }
  drawFields(current);
  drawTurns(current);
  updateComposer();
  follow();
}

/** The turn of that id in the last state (the running turn is the last one, or near it). */
function findTurn(turnId: string): ChatTurn | undefined {
  const turns = state?.turns ?? [];
  for (let index = turns.length - 1; index >= 0; index--) {
    if (turns[index].id === turnId) {
      return turns[index];
    }
  }
  return undefined;
}

/**
 * More of the running turn's answer: kept at once, drawn at the next animation frame together with
 * the tokens that arrive before it (a model may send many a frame, and each drawing parses the whole answer).
 */
function token(turnId: string, text: string): void {
  const turn = findTurn(turnId);
  const entry = drawn.get(turnId);
  if (!turn || !entry) {
    return;
  }
  turn.streamed += text;
  entry.key = "";  // drawn from tokens: the next state draws the turn again (cheaper than a key per token)
  streaming.add(turnId);
  frame ??= requestAnimationFrame(drawTokens);
}

/** The answer bubbles of the turns that got tokens, each drawn once (only the answer: the rest stays). */
function drawTokens(): void {
  frame = undefined;
  if (!streaming.size) {
    return;  // a state came first and drew them
  }
  for (const turnId of streaming) {
    const turn = findTurn(turnId);
    const entry = drawn.get(turnId);
    if (state && turn && entry) {
      entry.element.querySelector(":scope > .bubble.answer")?.replaceWith(answerBubble(turn, state.shape));
    }
  }
  streaming.clear();
  follow();
}

window.addEventListener("message", (event: MessageEvent<ToChat>) => {
  const message = event.data;
  if (message?.type === "state") {
    if (saved.uri !== message.shape.uri) {
      remember({ uri: message.shape.uri });
    }
    render(message);
  } else if (message?.type === "token") {
    token(message.turnId, message.text);
  }
});

drawAttachments();
grow();
updateComposer();
post({ type: "ready" });
