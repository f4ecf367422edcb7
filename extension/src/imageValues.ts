/**
 * Images in run values, as the server writes them (server/flowline/engine/image_files.py):
 * `{"data:image/png;path": "/abs/file.png"}` (or `;url`), and with `message_format: openai-vision`
 * `{"type": "image_file", "image_file": {"path": ...}}` / `{"type": "image_url", "image_url": {"url": ...}}`.
 * Pure, so the run panel's webview and the unit tests share it.
 */

/** An image found in a value: a file (absolute path) or a URL, with where in the value it was. */
export interface ImageRef {
  path?: string;
  url?: string;
  /** Where it sits in the value: `out`, `items[1]`; empty for the value itself. */
  at: string;
}

const KEY = /^data:image\/[^;]*;(path|url)$/;

/** The image a dict stands for, or `undefined`. */
export function imageOf(value: unknown): { path?: string; url?: string } | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, target] = entries[0];
    const match = KEY.exec(key);
    if (match && typeof target === "string") {
      return match[1] === "path" ? { path: target } : { url: target };
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  const inner = typeof record.type === "string" ? record[record.type] : undefined;
  if (entries.length === 2 && inner !== null && typeof inner === "object") {
    const { path, url } = inner as { path?: unknown; url?: unknown };
    if (record.type === "image_file" && typeof path === "string") {
      return { path };
    }
    if (record.type === "image_url" && typeof url === "string") {
      return { url };
    }
  }
  return undefined;
}

/** Every image in a value (lists and objects searched `depth` levels deep, at most `limit` images). */
export function findImages(value: unknown, depth = 4, limit = 20): ImageRef[] {
  const found: ImageRef[] = [];
  const visit = (item: unknown, at: string, left: number): void => {
    if (found.length >= limit) {
      return;
    }
    const image = imageOf(item);
    if (image) {
      found.push({ ...image, at });
    } else if (left > 0 && Array.isArray(item)) {
      item.forEach((child, index) => visit(child, `${at}[${index}]`, left - 1));
    } else if (left > 0 && item !== null && typeof item === "object") {
      for (const [key, child] of Object.entries(item as Record<string, unknown>)) {
        visit(child, at ? `${at}.${key}` : key, left - 1);
      }
    }
  };
  visit(value, "", depth);
  return found;
}

/**
 * The webview address of an image file: `root` is `asWebviewUri` of the file system's root, so a
 * path below it is that root plus the path's segments, each URI-encoded (a Windows drive path too).
 * `undefined` for a relative path (a batch run's, relative to its run folder), which the panel cannot place.
 */
export function imageSource(root: string, path: string): string | undefined {
  const segments = path.replace(/\\/g, "/").split("/").filter((part) => part !== "");
  if (!path.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(path)) {
    return undefined;
  }
  return root.replace(/\/$/, "") + "/" + segments.map(encodeURIComponent).join("/");
}
