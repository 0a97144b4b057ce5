"""One module per external tool, translating its errors in one place."""
