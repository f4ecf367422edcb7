/** The HTML shell of a webview page: its bundled script and styles, under a CSP with a nonce (pageHtml.ts). */

import * as crypto from "crypto";
import * as vscode from "vscode";
import { type PageOptions, pageHtml } from "./pageHtml";

/**
 * The page `name` (dist/webview/<name>.js and .css, after the shared base.css): no network, no
 * inline code, no eval; only the extension's own files load, and images from the webview's resource
 * roots. `options` (or `true` for `dataImages`) adds what one page needs.
 */
export function webviewHtml(webview: vscode.Webview, dist: vscode.Uri, name: string, title: string,
  options: boolean | PageOptions = false): string {
  const page: PageOptions = typeof options === "boolean" ? { dataImages: options } : options;
  return pageHtml({ cspSource: webview.cspSource, nonce: crypto.randomBytes(16).toString("base64"),
    asset: (file) => webview.asWebviewUri(vscode.Uri.joinPath(dist, file)).toString() }, name, title, page);
}
