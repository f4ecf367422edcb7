/**
 * The quick picks of "Run Flow over a Dataset...": where each flow input takes its value from, and
 * which variant runs. The choices themselves are pure (batchMapping.ts); this is only their UI.
 */

import * as vscode from "vscode";
import { columnReference, defaultVariants, describeSource, hasDefault, literalProblem, type Mapping, type MappedInput,
  prefill, type Source, unmapped, unmappedMessage, type VariantChoice } from "./batchMapping";
import { display } from "./inputs";

const RUN_LABEL = "$(play) Run with this mapping";
const LITERAL_LABEL = "$(edit) A literal value…";

interface SourceItem extends vscode.QuickPickItem {
  source?: Source;
}

/** The second pick: a column, the default (when there is one) or a literal typed next; undefined when dismissed. */
async function pickSource(input: MappedInput, columns: readonly string[], current: Source): Promise<Source | undefined> {
  const mark = (text: string, chosen: boolean): string => chosen ? `${text} · current` : text;
  const items: SourceItem[] = [
    ...columns.map((column): SourceItem => ({ label: column,
      description: mark(columnReference(column), current.kind === "column" && current.column === column),
      source: { kind: "column", column } })),
    ...(hasDefault(input) ? [{ label: `Default (${display(input.default)})`,
      description: mark("the flow's default", current.kind === "default"), source: { kind: "default" } } as SourceItem]
      : []),
    { label: LITERAL_LABEL, description: mark("the same value on every line", current.kind === "literal") },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `Value of input '${input.name}'`
    + (input.type ? ` (${input.type})` : ""), placeHolder: "A column of the data file, the default, or a literal value",
  ignoreFocusOut: true });
  if (!picked || picked.source) {
    return picked?.source;
  }
  const value = await vscode.window.showInputBox({ title: `Value of input '${input.name}' on every line`,
    value: current.kind === "literal" ? current.value : hasDefault(input) ? display(input.default) : "",
    validateInput: (text) => literalProblem(input, text) ?? null, ignoreFocusOut: true });
  return value === undefined ? undefined : { kind: "literal", value };
}

interface InputItem extends vscode.QuickPickItem {
  input?: MappedInput;
}

/**
 * Lets the user check and change each input's source, pre-filled by name (see `prefill`); resolves
 * with the mapping when they run it, or undefined when they dismiss the pick. Run is refused, with
 * a message, while an input has neither a column nor a value.
 */
export async function pickMapping(inputs: readonly MappedInput[], columns: readonly string[], data: string)
  : Promise<Mapping | undefined> {
  const mapping = prefill(inputs, columns);
  for (;;) {
    const missing = unmapped(inputs, mapping);
    const items: InputItem[] = [
      { label: RUN_LABEL, description: missing.length ? `first choose a value for ${missing.join(", ")}` : undefined },
      { label: "Inputs", kind: vscode.QuickPickItemKind.Separator },
      ...inputs.map((input) => ({ label: input.name, description: describeSource(input, mapping[input.name]),
        input })),
    ];
    const picked = await vscode.window.showQuickPick(items, { title: `Inputs of the batch run over ${data}`,
      placeHolder: "Pick an input to change where its value comes from, or run", ignoreFocusOut: true });
    if (!picked) {
      return undefined;
    }
    if (picked.input) {
      mapping[picked.input.name] = await pickSource(picked.input, columns, mapping[picked.input.name])
        ?? mapping[picked.input.name];
    } else if (missing.length) {
      void vscode.window.showWarningMessage(unmappedMessage(missing, data));
    } else {
      return mapping;
    }
  }
}

/**
 * The variant to run: null for the flow's default variants (also when the flow has none, without
 * asking), a choice, or undefined when the user dismisses the pick.
 */
export async function pickVariant(choices: readonly VariantChoice[]): Promise<VariantChoice | null | undefined> {
  if (!choices.length) {
    return null;
  }
  const items = [
    { label: "Default variants", description: defaultVariants(choices), choice: null },
    ...choices.map((choice) => ({ label: choice.variant, description: choice.isDefault ? "default" : undefined,
      choice })),
  ];
  const picked = await vscode.window.showQuickPick(items, { title: "Variant for the batch run",
    placeHolder: "The flow's default variants, or one node's variant", ignoreFocusOut: true });
  return picked ? picked.choice : undefined;
}
