"""Success criteria: declared and locked before evidence; business value."""
