"""Node variants: choosing, for each ``use_variants`` node, the definition that runs."""

from __future__ import annotations

from dataclasses import replace

from flowline.flow.model import Flow
from flowline.flow.references import parse_reference


class VariantError(ValueError):
    """A variant choice that does not match the flow."""


def parse_variant(text: str) -> tuple[str, str]:
    """``${node.variant_id}`` → (node, variant id)."""
    ref = parse_reference(text.strip())
    if ref is None or ref.kind != "node" or not ref.section or ref.path:
        raise VariantError(f"--variant must look like '${{node_name.variant_id}}', not '{text}'.")
    return ref.name, ref.section


def apply_variants(flow: Flow, chosen: tuple[str, str] | None) -> Flow:
    """Replace every ``use_variants`` node by its chosen (or default) variant."""
    if chosen is not None:
        node_name, variant_id = chosen
        entry = flow.variants_of(node_name)
        if entry is None:
            names = ", ".join(v.node_name for v in flow.node_variants) or "none"
            raise VariantError(f"Node '{node_name}' has no variants (nodes with variants: {names}).")
        if entry.variant(variant_id) is None:
            ids = ", ".join(v.id for v in entry.variants)
            raise VariantError(f"Node '{node_name}' has no variant '{variant_id}' (variants: {ids}).")
    nodes = []
    for node in flow.nodes:
        entry = flow.variants_of(node.name) if node.use_variants else None
        if entry is None:
            nodes.append(node)
            continue
        wanted = chosen[1] if chosen and chosen[0] == node.name else entry.default_variant_id
        variant = entry.variant(wanted or "")
        nodes.append(variant.node if variant else node)
    return replace(flow, nodes=tuple(nodes))
