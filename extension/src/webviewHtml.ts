/** The HTML shell of a webview page: its bundled script and styles, under a CSP with a nonce. */

import * as crypto from "crypto";
import * as vscode from "vscode";

/**
 * The page `name` (dist/webview/<name>.js and .css, after the shared base.css): no network, no
 * inline code; only the extension's own files load, and images from the webview's resource roots
 * (and `data:` images when `dataImages`: the chat page shows the images a message attaches, read in the page).
 */
export function webviewHtml(webview: vscode.Webview, dist: vscode.Uri, name: string, title: string,
  dataImages = false): string {
  const nonce = crypto.randomBytes(16).toString("base64");
  const asset = (file: string): vscode.Uri => webview.asWebviewUri(vscode.Uri.joinPath(dist, file));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; img-src ${webview.cspSource}${dataImages ? " data:" : ""}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset("base.css")}">
<link rel="stylesheet" href="${asset(`${name}.css`)}">
<title>${title}</title>
</head>
<body>
<div id="app" role="application" aria-label="${title}"></div>
<script nonce="${nonce}" src="${asset(`${name}.js`)}"></script>
</body>
</html>`;
}
