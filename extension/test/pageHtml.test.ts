import * as assert from "node:assert/strict";
import { test } from "node:test";
import { contentSecurityPolicy, FLOW_EDITOR_PAGE, type PageOptions, pageHtml } from "../src/pageHtml";

/** What VS Code gives a webview as `cspSource`, and a nonce. */
const CSP_SOURCE = "https://*.vscode-cdn.net";
const NONCE = "bm9uY2Utb2YtdGhlLXRlc3Q=";

/** A policy's directives: name → its sources. */
function directives(policy: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const directive of policy.split(";").map((d) => d.trim()).filter(Boolean)) {
    const [name, ...sources] = directive.split(/\s+/);
    assert.ok(!found.has(name), `${name} is given twice`);
    found.set(name, sources);
  }
  return found;
}

/** The policy is strict: every directive's sources are among the few a page may have. */
function assertStrict(policy: string, options: PageOptions): void {
  const given = directives(policy);
  assert.deepEqual(given.get("default-src"), ["'none'"]);  // connect-src, frame-src, font-src...: nothing
  assert.deepEqual(given.get("script-src"), [`'nonce-${NONCE}'`]);
  assert.deepEqual(given.get("style-src"), [CSP_SOURCE]);
  assert.deepEqual(given.get("img-src"), options.dataImages ? [CSP_SOURCE, "data:"] : [CSP_SOURCE]);
  assert.deepEqual(given.get("worker-src"), options.blobWorkers ? ["blob:"] : undefined);
  assert.deepEqual([...given.keys()].sort(), ["default-src", "img-src", "script-src", "style-src",
    ...options.blobWorkers ? ["worker-src"] : []].sort());
  assert.doesNotMatch(policy, /unsafe-|strict-dynamic|https?:(?!\/\/\*\.vscode-cdn\.net)|\s\*(\s|;|$)|wasm/);
}

test("the visual editor's CSP: no eval, no inline code, nothing from elsewhere, workers only from blob:", () => {
  const policy = contentSecurityPolicy(CSP_SOURCE, NONCE, FLOW_EDITOR_PAGE);
  assertStrict(policy, FLOW_EDITOR_PAGE);
  assert.equal(policy, `default-src 'none'; style-src ${CSP_SOURCE}; img-src ${CSP_SOURCE}; `
    + `script-src 'nonce-${NONCE}'; worker-src blob:;`);
});

test("every page's CSP is as strict; only the chat page takes data: images", () => {
  for (const options of [{}, { dataImages: true }, { styles: ["reactflow"] }, FLOW_EDITOR_PAGE]) {
    assertStrict(contentSecurityPolicy(CSP_SOURCE, NONCE, options), options);
  }
});

test("the page's HTML: the policy before anything loads, the script with its nonce, styles in order", () => {
  const asset = (file: string) => `https://file%2B.vscode-resource.vscode-cdn.net/ext/dist/webview/${file}`;
  const html = pageHtml({ cspSource: CSP_SOURCE, nonce: NONCE, asset }, "flowEditor", "Flowline visual editor",
    FLOW_EDITOR_PAGE);
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(meta);
  assert.equal(meta[1], contentSecurityPolicy(CSP_SOURCE, NONCE, FLOW_EDITOR_PAGE));
  assert.ok(html.indexOf(meta[0]) < html.indexOf("<link"), "a stylesheet comes before the policy");
  assert.deepEqual([...html.matchAll(/<link rel="stylesheet" href="([^"]*)">/g)].map((m) => m[1]),
    ["base.css", "reactflow.css", "flowEditor.css"].map(asset));
  // one script, from the extension's files, with the nonce; no inline script or style, no inline handler
  assert.deepEqual([...html.matchAll(/<script[^>]*>/g)].map((m) => m[0]),
    [`<script nonce="${NONCE}" src="${asset("flowEditor.js")}">`]);
  assert.doesNotMatch(html, /<style|\son[a-z]+=|style="/);
});
