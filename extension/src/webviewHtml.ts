/** The HTML shell of a webview page: its bundled script and styles, under a CSP with a nonce. */

import * as crypto from "crypto";
import * as vscode from "vscode";

/** What a page needs beyond its own script and stylesheet. */
export interface PageOptions {
  /** `data:` images: the chat page shows the images a message attaches, read in the page. */
  dataImages?: boolean;
  /** Stylesheets (dist/webview/<name>.css) loaded after base.css and before the page's own. */
  styles?: string[];
  /** Web Workers from `blob:` URLs made by the page's own script (the visual editor's ELK worker). */
  blobWorkers?: boolean;
}

/**
 * The page `name` (dist/webview/<name>.js and .css, after the shared base.css): no network, no
 * inline code, no eval; only the extension's own files load, and images from the webview's resource
 * roots. `options` (or `true` for `dataImages`) adds what one page needs.
 */
export function webviewHtml(webview: vscode.Webview, dist: vscode.Uri, name: string, title: string,
  options: boolean | PageOptions = false): string {
  const { dataImages = false, styles = [], blobWorkers = false }: PageOptions = typeof options === "boolean"
    ? { dataImages: options } : options;
  const nonce = crypto.randomBytes(16).toString("base64");
  const asset = (file: string): vscode.Uri => webview.asWebviewUri(vscode.Uri.joinPath(dist, file));
  const links = ["base", ...styles, name].map((css) => `<link rel="stylesheet" href="${asset(`${css}.css`)}">`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; img-src ${webview.cspSource}${dataImages ? " data:" : ""}; script-src 'nonce-${nonce}';${blobWorkers ? " worker-src blob:;" : ""}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${links}
<title>${title}</title>
</head>
<body>
<div id="app" role="application" aria-label="${title}"></div>
<script nonce="${nonce}" src="${asset(`${name}.js`)}"></script>
</body>
</html>`;
}
