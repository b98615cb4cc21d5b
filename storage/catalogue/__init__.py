"""The catalogue: the source of truth for dossiers, components, documents, e-results and job steps."""
