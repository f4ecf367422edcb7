/** Values typed into the run form or a node form → the JSON a run takes (pure; unit-tested). */

import { literal } from "./flowGraph";
import type { InputField } from "./messages";
import type { NodeNeed } from "./protocol";

export class InputError extends Error {}

/** The value of one field: the form sends text, the flow wants its declared type. */
export function convert(field: InputField, raw: unknown): unknown {
  if (typeof raw !== "string") {
    return raw;
  }
  const text = raw.trim();
  switch (field.type) {
    case "int": {
      if (!/^[-+]?\d+$/.test(text)) {
        throw new InputError(`Input '${field.name}' must be a whole number, not '${raw}'.`);
      }
      return Number.parseInt(text, 10);
    }
    case "double": {
      const value = Number(text);
      if (text === "" || Number.isNaN(value)) {
        throw new InputError(`Input '${field.name}' must be a number, not '${raw}'.`);
      }
      return value;
    }
    case "bool":
      if (!["true", "false"].includes(text.toLowerCase())) {
        throw new InputError(`Input '${field.name}' must be true or false, not '${raw}'.`);
      }
      return text.toLowerCase() === "true";
    case "list":
    case "object": {
      try {
        const value: unknown = JSON.parse(text === "" ? (field.type === "list" ? "[]" : "{}") : text);
        if (field.type === "list" ? !Array.isArray(value) : (typeof value !== "object" || value === null
            || Array.isArray(value))) {
          throw new InputError(`Input '${field.name}' must be a JSON ${field.type === "list" ? "list" : "object"}.`);
        }
        return value;
      } catch (error) {
        if (error instanceof InputError) {
          throw error;
        }
        throw new InputError(`Input '${field.name}' is not valid JSON: ${(error as Error).message}.`);
      }
    }
    default:
      return raw;
  }
}

/** All values of a form, typed; missing ones fall back to the default. */
export function formInputs(fields: InputField[], values: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (raw === undefined || raw === null) {
      if (field.default !== null && field.default !== undefined) {
        result[field.name] = field.default;
      }
      continue;
    }
    result[field.name] = convert(field, raw);
  }
  return result;
}

/**
 * The values typed into a node form, by the keys the node run takes: a flow input is typed by its
 * declared type; a node's output is read as JSON when it is spelled as JSON (`{...}`, `[...]`,
 * numbers, true/false/null), else taken as text.
 */
export function nodeFormInputs(fields: NodeNeed[], typed: Record<string, string>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const need of fields) {
    const raw = typed[need.key];
    if (raw === undefined) {
      continue;
    }
    result[need.key] = need.kind === "input"
      ? convert({ name: need.key.replace(/^inputs\./, ""), type: need.type, default: null, description: null }, raw)
      : literal(raw);
  }
  return result;
}

/** How a value shows in a text field. */
export function display(value: unknown): string {
  if (value === undefined || value === null) {
    return "";
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}
