/**
 * The VS Code workbench as the end-to-end tests see it. Every selector of VS Code's DOM lives here,
 * pinned to code-server 4.100.3 (VS Code 1.100), so a VS Code update is fixed in one place.
 */

import { join } from "node:path";
import type { FrameLocator, Locator, Page } from "playwright-core";
import { SCREENSHOTS } from "./codeServer";

const MOD = "Control";

/** "hello/flow.dag.yaml" → "hello" (flow files share a name; their folder tells them apart). */
function folderOf(relative: string): string {
  return relative.split("/").slice(-2, -1)[0] ?? relative;
}

/** "hello/flow.dag.yaml" → "flow.dag.yaml". */
function fileOf(relative: string): string {
  return relative.split("/").pop() ?? relative;
}

export class Workbench {
  constructor(readonly page: Page) {}

  /** Loads the workbench; VS Code's own start-up is retried (the only retry in the suite). */
  async load(url: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.page.goto(url);
      try {
        await this.page.locator("div.monaco-workbench").waitFor({ timeout: 60_000 });
        await this.page.locator(".explorer-folders-view, .explorer-viewlet").first().waitFor({ timeout: 60_000 });
        return;
      } catch (error) {
        if (attempt >= 3) {
          throw error;
        }
      }
    }
  }

  async shot(name: string): Promise<void> {
    await this.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  }

  /** Runs a command from the command palette by its title. */
  async command(title: string): Promise<void> {
    await this.page.keyboard.press(`${MOD}+Shift+P`);
    const input = this.page.locator(".quick-input-widget input");
    await input.waitFor();
    await input.fill(`>${title}`);
    // Clicked rather than Enter: Enter would run whichever row the list had focused a moment before.
    await this.page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().click();
    await this.page.locator(".quick-input-widget").waitFor({ state: "hidden" });
  }

  /**
   * Closes every editor, discarding unsaved changes: VS Code either closes them at once or first
   * asks about the unsaved ones, whichever it decides when the command runs.
   */
  async closeAllEditors(): Promise<void> {
    const dontSave = this.page.locator(".monaco-dialog-box .monaco-button", { hasText: "Don't Save" });
    const closed = this.page.locator(".monaco-workbench:not(:has(.tabs-container .tab))");
    // Asked again while neither state has come: on a busy machine a command can be lost.
    for (let attempt = 1; ; attempt++) {
      await this.command("View: Close All Editors");
      try {
        await dontSave.or(closed).first().waitFor({ timeout: 15_000 });
        break;
      } catch (error) {
        if (attempt >= 3) {
          throw error;
        }
      }
    }
    if (await dontSave.isVisible()) {
      await dontSave.click();
    }
    await closed.waitFor();
  }

  /** Waits until the active editor's visible text has `shown` and nothing of `gone`. */
  async editorShows(shown: string, gone: string, timeoutMs = 15_000): Promise<void> {
    await this.page.waitForFunction(([wanted, unwanted]) => {
      const lines = document.querySelector(".editor-group-container.active .monaco-editor .view-lines");
      const text = (lines?.textContent ?? "").replace(/\u00a0/g, " ");
      return text.includes(wanted) && !text.includes(unwanted);
    }, [shown, gone], { timeout: timeoutMs, polling: 50 });
  }

  /** Whether the active editor's tab shows unsaved changes. */
  dirtyTab(): Locator {
    return this.page.locator(".tabs-container .tab.active.dirty");
  }

  /** Picks the row that has `label` in the quick pick that is open (or opens next). */
  async pick(label: string): Promise<void> {
    const row = this.page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: label });
    await row.first().click({ timeout: 10_000 });
  }

  /** Types `text` into the input box whose title has `title` once it shows, and presses Enter. */
  async answer(title: string, text: string): Promise<void> {
    const titled = this.page.locator(".quick-input-widget .quick-input-title", { hasText: title });
    await titled.waitFor({ timeout: 10_000 });
    await this.page.locator(".quick-input-widget input").fill(text);
    await this.page.locator(".quick-input-widget input").press("Enter");
    await titled.waitFor({ state: "hidden" });
  }

  /**
   * Chooses a file in code-server's simple file dialog titled `title`. The dialog first fills in its
   * starting folder once it has read it, overwriting whatever was typed before; so the path is typed
   * after that, typed again while the dialog shows something else, and accepted once the dialog
   * lists the file.
   */
  async chooseFile(title: string, path: string): Promise<void> {
    const dialog = this.quickInput(title);
    const input = dialog.locator("input");
    await dialog.waitFor({ timeout: 10_000 });
    await this.page.waitForFunction(() => {
      const field = document.querySelector<HTMLInputElement>(".quick-input-widget input");
      return field !== null && field.value.endsWith("/");
    }, undefined, { timeout: 10_000, polling: 50 });
    const name = path.split("/").pop() ?? path;
    for (let attempt = 1; ; attempt++) {
      if (await input.inputValue() !== path) {
        await input.fill(path);
      }
      await dialog.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor();
      await input.press("Enter");
      try {
        await dialog.waitFor({ state: "hidden", timeout: 10_000 });
        return;
      } catch (error) {
        if (attempt >= 3) {
          throw error;
        }
      }
    }
  }

  /** Opens the notifications centre (for a screenshot of what went wrong). */
  async showNotifications(): Promise<void> {
    await this.page.locator("#status\\.notifications").click({ timeout: 2_000 });
  }


  /**
   * Opens a file in the text editor with Quick Open; resolves when its text editor shows. Quick Open
   * reopens a file with the editor it last had, so a flow last seen in the visual editor is reopened
   * with the text editor.
   */
  async open(relative: string): Promise<void> {
    await this.quickOpen(relative);
    await this.page.locator(".editor-group-container.active .breadcrumbs-control", { hasText: folderOf(relative) })
      .filter({ hasText: fileOf(relative) }).waitFor({ timeout: 30_000 });
    // Which editor it opened: a text editor in the active group (a group keeps the panes it has shown, hidden),
    // or a custom editor's webview (drawn over the group, outside it).
    const opened = await this.page.waitForFunction(() => {
      const shown = (element: Element) => element.getBoundingClientRect().width > 0;
      if (Array.from(document.querySelectorAll(".editor-group-container.active .monaco-editor")).some(shown)) {
        return "text";
      }
      const webviews = Array.from(document.querySelectorAll<HTMLIFrameElement>("iframe.webview.ready"))
        .filter((frame) => !frame.src.includes("purpose=webviewView"));
      return webviews.some(shown) ? "visual" : null;
    }, undefined, { timeout: 30_000, polling: 100 });
    if (await opened.jsonValue() === "visual") {
      await this.command("View: Reopen Editor with Text Editor");
    }
    await this.editor().click({ position: { x: 400, y: 10 } });
  }

  private async quickOpen(relative: string, beforeEnter?: () => Promise<void>): Promise<void> {
    await this.page.keyboard.press(`${MOD}+P`);
    const input = this.page.locator(".quick-input-widget input");
    await input.waitFor();
    await input.fill(relative);
    // The row of this very file (a row of the previous search can linger a moment after typing).
    await this.page.locator(".quick-input-list .monaco-list-row.focused", { hasText: folderOf(relative) })
      .filter({ hasText: fileOf(relative) }).first().waitFor();
    await beforeEnter?.();
    await input.press("Enter");
  }

  /**
   * Opens a flow that has a mistake and times its first squiggle, from pressing Enter in Quick
   * Open and from its editor showing (the active editor's breadcrumbs naming its folder). A
   * MutationObserver in the page takes the times, so Playwright's polling does not add to them.
   */
  async openAndTimeDiagnostics(relative: string, timeoutMs: number): Promise<{ fromEnter: number; fromEditor: number }> {
    const folder = folderOf(relative);
    await this.quickOpen(relative, () => this.page.evaluate((name) => {
      const marks: Record<string, number> = { enter: performance.now() };
      (window as unknown as { flowlineMarks: Record<string, number> }).flowlineMarks = marks;
      const observer = new MutationObserver(() => {
        const group = document.querySelector(".editor-group-container.active");
        if (marks.editor === undefined && group?.querySelector(".breadcrumbs-control")?.textContent?.includes(name)) {
          marks.editor = performance.now();
        }
        if (marks.editor !== undefined && marks.squiggle === undefined
            && group?.querySelector(".monaco-editor .squiggly-error")) {
          marks.squiggle = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    }, folder));
    const marks = await this.page.waitForFunction(() => {
      const found = (window as unknown as { flowlineMarks: Record<string, number> }).flowlineMarks;
      return found.squiggle !== undefined ? found : null;
    }, undefined, { timeout: timeoutMs, polling: 50 });
    const { enter, editor, squiggle } = await marks.jsonValue() as Record<string, number>;
    await this.editor().click({ position: { x: 400, y: 10 } });
    return { fromEnter: Math.round(squiggle - enter), fromEditor: Math.round(squiggle - editor) };
  }

  /** Scrolls the active editor to its first line (code lenses are only clickable in view). */
  async top(): Promise<void> {
    await this.editor().click({ position: { x: 400, y: 10 } });
    await this.page.keyboard.press(`${MOD}+Home`);
  }

  editor(): Locator {
    return this.page.locator(".editor-group-container.active .monaco-editor").first();
  }

  /** Puts the cursor at a 1-based line and column. */
  async goTo(line: number, column = 1): Promise<void> {
    await this.page.keyboard.press(`${MOD}+G`);
    const input = this.page.locator(".quick-input-widget input");
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await input.press("Enter");
    await this.page.locator(".quick-input-widget").waitFor({ state: "hidden" });
  }

  /** Types as a person would (the editor's auto-closing applies). */
  async type(text: string): Promise<void> {
    await this.page.keyboard.type(text, { delay: 20 });
  }

  squiggles(): Locator {
    return this.page.locator(".monaco-editor .squiggly-error");
  }

  suggestions(): Locator {
    return this.page.locator(".editor-widget.suggest-widget.visible .monaco-list-row");
  }

  hover(): Locator {
    return this.page.locator(".monaco-hover:not(.hidden)");
  }

  async showHover(): Promise<void> {
    await this.page.keyboard.press(`${MOD}+K`);
    await this.page.keyboard.press(`${MOD}+I`);
  }

  async problems(): Promise<Locator> {
    await this.page.keyboard.press(`${MOD}+Shift+M`);
    return this.page.locator(".markers-panel .monaco-list-row");
  }

  codeLens(title: string): Locator {
    return this.page.locator(".codelens-decoration a", { hasText: title });
  }

  private lineNumber(line: number): Locator {
    return this.page.locator(".editor-group-container.active .margin-view-overlays .line-numbers",
      { hasText: new RegExp(`^${line}$`) });
  }

  /** The code lens `title` that stands right above a 1-based line (the line is brought into view). */
  async codeLensAbove(title: string, line: number): Promise<Locator> {
    await this.goTo(line);
    const row = await this.lineNumber(line).boundingBox();
    const lenses = this.codeLens(title);
    await lenses.first().waitFor();
    for (let i = 0; row && i < await lenses.count(); i++) {
      const box = await lenses.nth(i).boundingBox();
      if (box && box.y < row.y && row.y - box.y < 2 * row.height) {
        return lenses.nth(i);
      }
    }
    throw new Error(`no "${title}" code lens above line ${line}`);
  }

  /** Sets a breakpoint the way a person does: a click in the glyph margin left of a line's number. */
  async toggleBreakpoint(line: number): Promise<void> {
    const number = this.lineNumber(line);
    const margin = this.page.locator(".editor-group-container.active .margin-view-overlays").first();
    const [row, left] = [await number.boundingBox(), await margin.boundingBox()];
    if (!row || !left) {
      throw new Error(`line ${line} is not in view`);
    }
    await this.page.mouse.click(left.x + 8, row.y + row.height / 2);
  }

  /** Breakpoint glyphs in the active editor. */
  breakpoints(): Locator {
    return this.page.locator(".editor-group-container.active .monaco-editor .codicon-debug-breakpoint");
  }

  /** The floating debug toolbar (shown while a debug session runs). */
  debugToolbar(): Locator {
    return this.page.locator(".debug-toolbar");
  }

  /** The highlighted line where the debugger is paused, in the active editor. */
  pausedLine(): Locator {
    return this.page.locator(".editor-group-container.active .monaco-editor .debug-top-stack-frame-line");
  }

  /** The run panel's page (a webview view: two nested frames). */
  runPanel(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready[src*="purpose=webviewView"]').frameLocator("#active-frame");
  }

  /** The visual editor's page (a custom editor's webview, the one without the view's purpose). */
  flowEditor(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"])').frameLocator("#active-frame");
  }

  /** The text of the active text editor's visible lines (Monaco's non-breaking spaces as spaces). */
  async editorText(): Promise<string> {
    const text = await this.page.locator(".editor-group-container.active .monaco-editor .view-lines").innerText();
    return text.replace(/\u00a0/g, " ");
  }

  activeTab(): Locator {
    return this.page.locator(".tabs-container .tab.active");
  }

  /** The editor tab whose title has `title`. */
  tab(title: string): Locator {
    return this.page.locator(".tabs-container .tab", { hasText: title });
  }

  /** The cursor position as the status bar shows it ("Ln 8, Col 1"). */
  cursorStatus(): Locator {
    return this.page.locator("#status\\.editor\\.selection");
  }

  /**
   * Runs a palette command that asks something at once (a quick pick, an open dialog): resolves when
   * the quick input titled `asks` shows, since the palette's own input never hides in between.
   */
  async commandAsking(title: string, asks: string): Promise<void> {
    await this.page.keyboard.press(`${MOD}+Shift+P`);
    const input = this.page.locator(".quick-input-widget input");
    await input.waitFor();
    await input.fill(`>${title}`);
    await this.page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().click();
    await this.quickInput(asks).waitFor({ timeout: 30_000 });
  }

  /** The quick input (a quick pick, an input box, the simple file dialog) while its title has `title`. */
  quickInput(title: string): Locator {
    return this.page.locator(".quick-input-widget", { has: this.page.locator(".quick-input-title", { hasText: title }) });
  }

  /** The row that has `text` in the quick pick titled `title`. */
  quickPickRow(title: string, text: string): Locator {
    return this.quickInput(title).locator(".quick-input-list .monaco-list-row", { hasText: text }).first();
  }

  /** A run report's page (a webview panel; with no visual editor open, the only webview without the view's purpose). */
  reportPage(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"])').frameLocator("#active-frame");
  }

  /** The chat panel's page (a webview panel; with no visual editor or report open, the only webview without the view's purpose). */
  chatPanel(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"])').frameLocator("#active-frame");
  }

  /** A notification toast that has `text`. */
  toast(text: string | RegExp): Locator {
    return this.page.locator(".notifications-toasts .notification-toast", { hasText: text });
  }

  /** The page the Simple Browser shows (its webview's frames, then the iframe that loads the page). */
  simpleBrowser(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready[src*="simple-browser"]').frameLocator("#active-frame")
      .frameLocator("iframe");
  }

  /** A terminal named `name`, as the terminal panel lists it (a tab of its own, or the only one's title). */
  terminal(name: string): Locator {
    return this.page.locator(".terminal-tabs-entry, .single-terminal-tab", { hasText: name });
  }
}
