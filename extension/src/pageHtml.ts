/**
 * The HTML of a webview page and its Content-Security-Policy, apart from `vscode` (webviewHtml.ts
 * fills in the webview's origin and a fresh nonce): the unit tests read the policy, and the
 * visual editor's page test loads its bundle under the very same page.
 */

/** What a page needs beyond its own script and stylesheet. */
export interface PageOptions {
  /** `data:` images: the chat page shows the images a message attaches, read in the page. */
  dataImages?: boolean;
  /** Stylesheets (dist/webview/<name>.css) loaded after base.css and before the page's own. */
  styles?: string[];
  /** Web Workers from `blob:` URLs made by the page's own script (the visual editor's ELK worker). */
  blobWorkers?: boolean;
}

/** The visual editor's page: React Flow's stylesheet, and ELK's worker started from a Blob. */
export const FLOW_EDITOR_PAGE: Readonly<PageOptions> = { styles: ["reactflow"], blobWorkers: true };

/**
 * The policy of a page: nothing by default (no network, no frames, no fonts); styles and images only
 * from `cspSource` (the webview's resource origin); scripts only with `nonce` (no inline code, no
 * eval); `data:` images and `blob:` workers only for a page that asks for them.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string, options: PageOptions = {}): string {
  return `default-src 'none'; style-src ${cspSource}; img-src ${cspSource}${options.dataImages ? " data:" : ""}; `
    + `script-src 'nonce-${nonce}';${options.blobWorkers ? " worker-src blob:;" : ""}`;
}

/** Where a page's files are: `asset("flowEditor.js")` is the URL the webview loads dist/webview/flowEditor.js from. */
export interface PageSources {
  cspSource: string;
  nonce: string;
  asset(file: string): string;
}

/** The page `name` (`<name>.js` and `.css`, after the shared base.css) under its policy. */
export function pageHtml(sources: PageSources, name: string, title: string, options: PageOptions = {}): string {
  const { cspSource, nonce, asset } = sources;
  const links = ["base", ...options.styles ?? [], name]
    .map((css) => `<link rel="stylesheet" href="${asset(`${css}.css`)}">`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(cspSource, nonce, options)}">
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
