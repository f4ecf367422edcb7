/** A webview page of the extension on its own in Chromium, with a stand-in for VS Code's webview API. */

import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ROOT } from "./codeServer";

/**
 * Loads dist/webview/<name>.js and its styles (base.css, then `styles`, then its own, as webviewHtml
 * orders them); what the page posts collects in `window.sent`.
 */
export async function openWebviewPage(browser: Browser, name: string, styles: string[] = [],
  viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage(viewport ? { viewport } : {});
  await page.setContent('<!DOCTYPE html><html><body><div id="app"></div></body></html>');
  await page.evaluate(() => {
    const w = window as unknown as { sent: unknown[]; acquireVsCodeApi: () => unknown };
    w.sent = [];
    let saved: unknown;
    w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.sent.push(m), getState: () => saved,
      setState: (s: unknown) => { saved = s; } });
  });
  for (const css of ["base", ...styles, name]) {
    await page.addStyleTag({ path: join(ROOT, "dist", "webview", `${css}.css`) });
  }
  await page.addScriptTag({ path: join(ROOT, "dist", "webview", `${name}.js`) });
  return page;
}

/** What the page has posted so far. */
export async function sentBy<T>(page: Page): Promise<T[]> {
  return page.evaluate(() => (window as unknown as { sent: unknown[] }).sent) as Promise<T[]>;
}
