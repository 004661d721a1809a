"""PDF plumbing shared by ticket and statement PDFs: text layout (text), page painters (pages), the reportlab boundary (reportlab_internals)."""
