"""The flow language: parsing with positions, the model, references, schema and validation."""
