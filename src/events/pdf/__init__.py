"""PDF plumbing shared by ticket and statement PDFs: the reportlab boundary (reportlab_internals) and text layout (text)."""
