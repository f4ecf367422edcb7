/**
 * What "Run Flow over a Dataset..." asks before it runs (pure; unit-tested): the columns of the data
 * file, read by the rules of `flowline run create` (server/flowline/runs/data.py); where each flow
 * input takes its value from (a column, a literal, its default); the variant; and the `run create`
 * arguments that carry those choices.
 *
 * The mapping is always explicit: like promptflow, `run create` gives an input that has a default
 * its default rather than the data column of its name, so a run without a mapping would answer the
 * default on every line.
 */

import { convert, display, InputError } from "./inputs";
import type { GraphInput, GraphNode } from "./protocol";

/** The data files `run create` reads, by extension. */
export const DATA_EXTENSIONS = ["jsonl", "json", "csv", "tsv"];

/** Rows of a JSON Lines or JSON file whose keys make the columns (a key only later rows have is left out). */
export const SAMPLE_ROWS = 20;

/** A data file whose columns cannot be read; the message names the file (and line) and what is wrong. */
export class DataColumnsError extends Error {}

/** The lines of a text as Python's `str.splitlines()` cuts them (the CLI reads data files that way). */
function pythonLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  return lines.length && lines[lines.length - 1] === "" ? lines.slice(0, -1) : lines;
}

function isRow(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The keys of `rows`, in the order they first appear. */
function keysOf(rows: Record<string, unknown>[]): string[] {
  return [...new Set(rows.flatMap((row) => Object.keys(row)))];
}

function jsonLinesColumns(file: string, text: string): string[] {
  const rows: Record<string, unknown>[] = [];
  const lines = pythonLines(text);
  for (let index = 0; index < lines.length && rows.length < SAMPLE_ROWS; index++) {
    if (!lines[index].trim()) {
      continue;
    }
    let row: unknown;
    try {
      row = JSON.parse(lines[index]);
    } catch (error) {
      throw new DataColumnsError(`${file}:${index + 1}: not valid JSON (${(error as Error).message}).`);
    }
    if (!isRow(row)) {
      throw new DataColumnsError(`${file}:${index + 1}: each line must be a JSON object.`);
    }
    rows.push(row);
  }
  if (!rows.length) {
    throw new DataColumnsError(`${file} holds no lines; write one JSON object per line.`);
  }
  return keysOf(rows);
}

function jsonColumns(file: string, text: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DataColumnsError(`${file}: not valid JSON (${(error as Error).message}).`);
  }
  const rows = Array.isArray(data) ? data : [data];
  if (!rows.every(isRow)) {
    throw new DataColumnsError(`${file}: must hold a JSON object or a list of objects.`);
  }
  if (!rows.length) {
    throw new DataColumnsError(`${file} holds an empty list; give it one object per line of data.`);
  }
  return keysOf(rows.slice(0, SAMPLE_ROWS));
}

/** The fields of a CSV header line as Python's `csv` module (excel dialect) reads them. */
function headerFields(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c !== '"') {
        field += c;
      } else if (line[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
      }
    } else if (c === delimiter) {
      fields.push(field);
      field = "";
      fieldStart = true;
      continue;
    } else if (c === '"' && fieldStart) {
      quoted = true;
    } else {
      field += c;
    }
    fieldStart = false;
  }
  fields.push(field);
  return fields;
}

function csvColumns(file: string, text: string, delimiter: string): string[] {
  const header = pythonLines(text)[0];
  if (!header) {
    throw new DataColumnsError(`${file} has no header row; its first line must name the columns.`);
  }
  return [...new Set(headerFields(header, delimiter))];
}

/**
 * The columns of a data file, given its path (for the format and messages) and its text: the keys
 * of the first {@link SAMPLE_ROWS} objects of a `.jsonl` or `.json` file, the header of a `.csv` or
 * `.tsv` file. Throws {@link DataColumnsError} for text `run create` would refuse, an empty file, or
 * another extension.
 */
export function dataColumns(file: string, text: string): string[] {
  const body = text.replace(/^\uFEFF/, "");  // the CLI reads utf-8-sig
  const extension = file.slice(file.lastIndexOf(".") + 1).toLowerCase();
  switch (extension) {
    case "jsonl":
      return jsonLinesColumns(file, body);
    case "json":
      return jsonColumns(file, body);
    case "csv":
    case "tsv":
      return csvColumns(file, body, extension === "tsv" ? "\t" : ",");
    default:
      throw new DataColumnsError(`${file} is not a data file; use ${DATA_EXTENSIONS.map((e) => `.${e}`).join(", ")}.`);
  }
}

/** A flow input as the mapping sees it (the fields of `flowline/graph`'s inputs it uses). */
export type MappedInput = Pick<GraphInput, "name" | "type" | "default">;

/** Where an input's value comes from: a data column, one literal for every line, its default, or not chosen yet. */
export type Source =
  | { kind: "column"; column: string }
  | { kind: "literal"; value: string }
  | { kind: "default" }
  | { kind: "unset" };

/** Input name → its source. */
export type Mapping = Record<string, Source>;

/** Whether the flow declares a default for the input (`null` is no default, as for `run create`). */
export function hasDefault(input: MappedInput): boolean {
  return input.default !== null && input.default !== undefined;
}

/**
 * The mapping to start from: the column of the input's name when the file has it, else the
 * input's default, else unset (the user must choose).
 */
export function prefill(inputs: readonly MappedInput[], columns: readonly string[]): Mapping {
  const mapping: Mapping = {};
  for (const input of inputs) {
    mapping[input.name] = columns.includes(input.name) ? { kind: "column", column: input.name }
      : hasDefault(input) ? { kind: "default" } : { kind: "unset" };
  }
  return mapping;
}

/** `${data.<column>}`: a column as `run create`'s column mapping names it. */
export function columnReference(column: string): string {
  return `\${data.${column}}`;
}

/** How a source reads in the mapping list: `${data.name}`, `Default (World)`, `Literal: Hi`. */
export function describeSource(input: MappedInput, source: Source): string {
  switch (source.kind) {
    case "column":
      return columnReference(source.column);
    case "default":
      return `Default (${display(input.default)})`;
    case "literal":
      return `Literal: ${source.value}`;
    case "unset":
      return "not set: choose a column or a value";
  }
}

/** The inputs that have neither a column nor a value yet (in flow order). */
export function unmapped(inputs: readonly MappedInput[], mapping: Mapping): string[] {
  return inputs.filter((i) => (mapping[i.name]?.kind ?? "unset") === "unset").map((i) => i.name);
}

/** Why the run cannot start while `missing` inputs have no source (`data` names the file). */
export function unmappedMessage(missing: readonly string[], data: string): string {
  const names = missing.map((n) => `'${n}'`).join(", ");
  return `${missing.length === 1 ? "Input" : "Inputs"} ${names} of the flow ${missing.length === 1 ? "has" : "have"} `
    + `no column in ${data} and no default: pick ${missing.length === 1 ? "it" : "each"} in the list and choose a `
    + "column or type a value.";
}

/**
 * What is wrong with `text` as a literal for `input` (its declared type, as the run form checks
 * it), or undefined when it will do. A `${...}` text would be read as a reference, not a literal.
 */
export function literalProblem(input: MappedInput, text: string): string | undefined {
  if (/^\s*\$\{.*\}\s*$/.test(text)) {
    return "A ${...} value is a reference, not a literal; choose the column from the list instead.";
  }
  try {
    convert({ name: input.name, type: input.type, default: null, description: null }, text);
    return undefined;
  } catch (error) {
    if (error instanceof InputError) {
      return error.message;
    }
    throw error;
  }
}

/**
 * `run create`'s `--column-mapping` pairs: `input=${data.col}` for a column, `input=value` for a
 * literal (a value that is no `${...}` reference is a literal in promptflow's mapping). Inputs on
 * their default are left out: the engine fills the default. Throws an Error naming the inputs that
 * are still unset.
 */
export function columnMappingPairs(inputs: readonly MappedInput[], mapping: Mapping): string[] {
  const missing = unmapped(inputs, mapping);
  if (missing.length) {
    throw new Error(`The column mapping is incomplete: choose a column or a value for ${missing.join(", ")}.`);
  }
  const pairs: string[] = [];
  for (const input of inputs) {
    const source = mapping[input.name];
    if (source.kind === "column") {
      pairs.push(`${input.name}=${columnReference(source.column)}`);
    } else if (source.kind === "literal") {
      pairs.push(`${input.name}=${source.value}`);
    }
  }
  return pairs;
}

/** One variant a batch run can use: `${node.variant_id}`, as `--variant` takes it. */
export interface VariantChoice {
  variant: string;
  node: string;
  id: string;
  /** Whether the flow runs this variant when none is chosen. */
  isDefault: boolean;
}

/** The variants of the flow's `use_variants` nodes (none when the flow has no variants). */
export function variantChoices(nodes: readonly GraphNode[]): VariantChoice[] {
  return nodes.filter((n) => n.use_variants).flatMap((n) => (n.variant_ids ?? []).map((id) => ({
    variant: `\${${n.name}.${id}}`, node: n.name, id, isDefault: id === n.default_variant_id })));
}

/** `summarize: variant_0, other: plain`: the variants that run when none is chosen. */
export function defaultVariants(choices: readonly VariantChoice[]): string {
  return choices.filter((c) => c.isDefault).map((c) => `${c.node}: ${c.id}`).join(", ");
}

const pad = (value: number, width = 2): string => String(value).padStart(width, "0");

/**
 * The run's name as `run create` would make it (`<flow folder>_[<variant id>_]<local time to the
 * microsecond>`); the command gives it, so it can find the run even when `run create` fails.
 */
export function runName(flowFolder: string, variant: VariantChoice | undefined, now: Date): string {
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}_${pad(now.getHours())}`
    + `${pad(now.getMinutes())}${pad(now.getSeconds())}_${pad(now.getMilliseconds() * 1000, 6)}`;
  return `${flowFolder}_${variant ? `${variant.id}_` : ""}${stamp}`;
}

/** What `run create` takes from the command. */
export interface BatchSpec {
  flow: string;
  data: string;
  name: string;
  workers: number;
  variant?: VariantChoice;
  /** From {@link columnMappingPairs}. */
  pairs: readonly string[];
}

/** `flowline run create ...`'s arguments; `--column-mapping` comes last (it takes every argument after it). */
export function runCreateArgs(spec: BatchSpec): string[] {
  return ["run", "create", "--flow", spec.flow, "--data", spec.data, "--name", spec.name,
    "--workers", String(spec.workers), ...(spec.variant ? ["--variant", spec.variant.variant] : []),
    ...(spec.pairs.length ? ["--column-mapping", ...spec.pairs] : [])];
}
