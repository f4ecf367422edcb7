/** What both webview pages share: VS Code's webview API, an element builder, the status marks. */

/** The part of VS Code's webview API the pages use (`M`: the messages the page posts). */
export interface VsCodeApi<M> {
  postMessage(message: M): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** A status's mark, as the run panel and the graph show it. */
export const ICONS: Record<string, string> = { Completed: "✓", Failed: "✗", Running: "⟳", Bypassed: "⤼", Canceled: "⊘" };

/** An element with attributes and children (text children stay text: user data never becomes markup). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {},
                                                          ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    element.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null) {
      element.append(child);
    }
  }
  return element;
}
